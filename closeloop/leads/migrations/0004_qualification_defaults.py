"""The BANT scorecard criteria and the default reasons for discarding a lead."""

from django.db import migrations

# Copied here rather than imported: a migration must not change when the app code changes.
CRITERIA = [
    ("budget", "Budget", "Can they pay for it? Amount or range."),
    ("authority", "Authority", "Who decides, and is our contact the decision-maker?"),
    ("need", "Need", "The problem, in their words."),
    ("timeline", "Timeline", "When do they intend to buy?"),
]
REASONS = [
    "No budget", "No need", "Not the decision-maker", "No timeline", "Competitor customer",
    "Spam", "Other",
]  # fmt: skip


def create_defaults(apps, schema_editor):
    Criterion = apps.get_model("leads", "QualificationCriterion")
    Reason = apps.get_model("leads", "DisqualifyReason")
    if not Criterion.objects.exists():
        for position, (key, name, question) in enumerate(CRITERIA):
            Criterion.objects.create(
                key=key, name=name, question=question, weight=25, position=position,
                is_builtin=True,
            )  # fmt: skip
    if not Reason.objects.exists():
        for position, name in enumerate(REASONS):
            Reason.objects.create(name=name, position=position)


class Migration(migrations.Migration):
    dependencies = [("leads", "0003_qualification")]
    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
