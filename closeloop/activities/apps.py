from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "closeloop.activities"
    label = "activities"
