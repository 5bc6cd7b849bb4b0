from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "closeloop.accounts"
    label = "accounts"
