from django.apps import AppConfig


class AftersalesConfig(AppConfig):
    name = "closeloop.aftersales"
    label = "aftersales"

    def ready(self) -> None:
        from closeloop.pipeline.services import deal_won_handler_register

        from .referrals import referral_deal_won

        deal_won_handler_register("referrals", referral_deal_won)
