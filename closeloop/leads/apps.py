from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "closeloop.leads"
    label = "leads"
