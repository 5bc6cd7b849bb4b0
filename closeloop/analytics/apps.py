from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "closeloop.analytics"
    label = "analytics"
