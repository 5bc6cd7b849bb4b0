"""A rep's own live deals, newest first, read from one index (the API's list and the deals
page). Planner statistics are not refreshed here: taken on a new install's empty tables they
would mislead SQLite once the tables fill; the daily `statistics_refresh` job keeps them."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0010_lead_created_cover"),
        ("people", "0003_contact_consent"),
        ("pipeline", "0009_deal_keyset_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="deal",
            index=models.Index(
                condition=models.Q(("deleted_at__isnull", True)),
                fields=["owner", "created_at", "id"],
                name="deal_live_owner_created",
            ),
        ),
    ]
