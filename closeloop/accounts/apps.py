from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "closeloop.accounts"
    label = "accounts"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .models import WorkspaceSettings
        from .selectors import workspace_settings_forget

        # a saved (or deleted) settings row must not be served from the process's memo
        post_save.connect(workspace_settings_forget, sender=WorkspaceSettings)
        post_delete.connect(workspace_settings_forget, sender=WorkspaceSettings)
