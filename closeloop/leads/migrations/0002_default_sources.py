"""The default list of lead sources."""

from django.db import migrations

# Copied here rather than imported: a migration must not change when the app code changes.
SOURCES = [
    "Website form", "Referral", "Email campaign", "Paid ads", "Social media", "Event",
    "Cold outreach", "Lead-generation team", "Import", "API", "Email", "Other",
]  # fmt: skip


def create_sources(apps, schema_editor):
    Source = apps.get_model("leads", "Source")
    if not Source.objects.exists():
        for position, name in enumerate(SOURCES):
            Source.objects.create(name=name, position=position)


class Migration(migrations.Migration):
    dependencies = [("leads", "0001_initial")]
    operations = [migrations.RunPython(create_sources, migrations.RunPython.noop)]
