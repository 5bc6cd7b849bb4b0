from django.apps import AppConfig


class AftersalesConfig(AppConfig):
    name = "closeloop.aftersales"
    label = "aftersales"
