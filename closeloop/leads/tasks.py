"""Background tasks of leads: bringing nurtured leads back on their revisit date."""

from __future__ import annotations

from django_tasks import task


@task()
def lead_nurture_return_task(*, lead_id: int) -> dict[str, int]:
    """Return the lead if its date has come, then sweep up any other due lead a lost job missed."""
    from .qualification import lead_nurture_return, lead_nurture_return_due

    returned = int(lead_nurture_return(lead_id=lead_id))
    return {"returned": returned, "swept": lead_nurture_return_due()}


@task()
def lead_nurture_sweep_task() -> dict[str, int]:
    """The periodic sweep: return every nurtured lead whose revisit date has come."""
    from .qualification import lead_nurture_return_due

    return {"returned": lead_nurture_return_due()}
