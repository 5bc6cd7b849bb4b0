from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "closeloop.api"
    label = "api"
