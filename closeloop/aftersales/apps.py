from django.apps import AppConfig


class AftersalesConfig(AppConfig):
    name = "closeloop.aftersales"
    label = "aftersales"

    def ready(self) -> None:
        from . import mailings  # noqa: F401  (registers the coupon and unsubscribe merge fields)
