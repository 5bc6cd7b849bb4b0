from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "closeloop.people"
    label = "people"
