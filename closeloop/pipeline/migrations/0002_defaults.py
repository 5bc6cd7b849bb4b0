"""The default pipeline (Demo / meeting, Proposal, Negotiation / commitment) and lost reasons."""

from django.db import migrations

# Copied here rather than imported: a migration must not change when the app code changes.
STAGES = [
    ("Demo / meeting", 20, 14, True),
    ("Proposal", 50, 21, False),
    ("Negotiation / commitment", 80, 14, False),
]
REASONS = [
    "Price",
    "Competitor",
    "No budget",
    "Missing features",
    "No decision-maker",
    "Unresponsive",
    "Poor fit",
    "Timing",
    "Other",
]


def create_defaults(apps, schema_editor):
    Pipeline = apps.get_model("pipeline", "Pipeline")
    Stage = apps.get_model("pipeline", "Stage")
    LostReason = apps.get_model("pipeline", "LostReason")
    if not Pipeline.objects.exists():
        pipeline = Pipeline.objects.create(name="Sales", position=0, is_default=True)
        for position, (name, probability, rot_days, optional) in enumerate(STAGES):
            Stage.objects.create(
                pipeline=pipeline,
                name=name,
                position=position,
                probability=probability,
                rot_days=rot_days,
                is_optional=optional,
            )
    if not LostReason.objects.exists():
        for position, name in enumerate(REASONS):
            LostReason.objects.create(name=name, position=position)


class Migration(migrations.Migration):
    dependencies = [("pipeline", "0001_initial")]
    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
