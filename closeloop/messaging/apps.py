from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "closeloop.messaging"
    label = "messaging"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the EMAIL_URL start-up check)
