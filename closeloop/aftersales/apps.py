import datetime as dt

from django.apps import AppConfig


class AftersalesConfig(AppConfig):
    name = "closeloop.aftersales"
    label = "aftersales"

    def ready(self) -> None:
        from closeloop.core.schedule import periodic_job_register
        from closeloop.pipeline.services import deal_won_handler_register

        from . import mailings  # noqa: F401  (registers the coupon and unsubscribe merge fields)
        from .mailing_tasks import mailings_resume_task
        from .plan_tasks import plan_steps_sweep_task
        from .plans import plans_start_for_won_deal, step_runner_register
        from .referrals import referral_deal_won
        from .surveys import survey_step_run

        deal_won_handler_register("plans", plans_start_for_won_deal)
        deal_won_handler_register("referrals", referral_deal_won)
        step_runner_register("survey", survey_step_run)
        # each step has its own delayed job; the sweep runs any that a lost job missed
        periodic_job_register(
            "plan_steps_sweep", interval=lambda: dt.timedelta(minutes=5), task=plan_steps_sweep_task
        )
        # a mailing sends in batches, each enqueueing the next; this restarts a lost chain
        periodic_job_register(
            "mailings_resume", interval=lambda: dt.timedelta(minutes=10), task=mailings_resume_task
        )
