import datetime as dt

from django.apps import AppConfig


class AftersalesConfig(AppConfig):
    name = "closeloop.aftersales"
    label = "aftersales"

    def ready(self) -> None:
        from . import mailings  # noqa: F401  (registers the coupon and unsubscribe merge fields)
        from closeloop.core.schedule import periodic_job_register
        from closeloop.pipeline.services import deal_won_handler_register

        from .plan_tasks import plan_steps_sweep_task
        from .plans import plans_start_for_won_deal

        deal_won_handler_register("plans", plans_start_for_won_deal)
        # each step has its own delayed job; the sweep runs any that a lost job missed
        periodic_job_register(
            "plan_steps_sweep", interval=lambda: dt.timedelta(minutes=5), task=plan_steps_sweep_task
        )
        from closeloop.pipeline.services import deal_won_handler_register

        from .referrals import referral_deal_won

        deal_won_handler_register("referrals", referral_deal_won)
