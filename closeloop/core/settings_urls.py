"""Settings pages of every app, under /settings/ and the `settings` namespace."""

from django.urls import path

from closeloop.accounts import views as account_views
from closeloop.pipeline import settings_views as pipeline_views

app_name = "settings"

urlpatterns = [
    path("", pipeline_views.pipelines, name="pipelines"),
]
