"""Survey settings, included into the `settings` namespace at /settings/surveys/."""

from django.urls import path

from . import surveys_views as views

urlpatterns = [
    path("", views.survey_settings, name="surveys"),
    path("new/", views.survey_create, name="survey_create"),
    path("<int:pk>/", views.survey_edit, name="survey_edit"),
]
