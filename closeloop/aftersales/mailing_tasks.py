"""Background tasks of promotional mailings."""

from __future__ import annotations

from django_tasks import task


@task()
def mailing_batch_task(*, mailing_id: int) -> dict[str, int]:
    """Queue the next batch of a mailing's emails; the batch enqueues the one after it."""
    from .mailings import mailing_send_batch

    return mailing_send_batch(mailing_id=mailing_id)


@task()
def mailings_resume_task() -> dict[str, int]:
    """The periodic check for mailings whose batch jobs were lost."""
    from .mailings import mailings_resume_stalled

    return {"resumed": mailings_resume_stalled()}
