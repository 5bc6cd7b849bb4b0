from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """The GDPR tools: everything about one contact exported, or their personal data erased."""

    name = "closeloop.privacy"
    label = "privacy"
    default_auto_field = "django.db.models.BigAutoField"
