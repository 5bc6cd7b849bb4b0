from django.apps import AppConfig


class ProposalsConfig(AppConfig):
    name = "closeloop.proposals"
    label = "proposals"
