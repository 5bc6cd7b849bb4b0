"""Background tasks of follow-up plans: one delayed job per step, and the sweep behind them."""

from __future__ import annotations

from django_tasks import task


@task()
def plan_step_run_task(*, step_id: int) -> dict[str, str]:
    """Run one step when it is due; a retried job finds it done and does nothing."""
    from .plans import plan_step_run

    return {"state": plan_step_run(step_id=step_id)}


@task()
def plan_steps_sweep_task() -> dict[str, int]:
    """The periodic sweep (every 5 minutes): run due steps whose own job was lost."""
    from .plans import plan_steps_run_due

    return {"ran": plan_steps_run_due()}
