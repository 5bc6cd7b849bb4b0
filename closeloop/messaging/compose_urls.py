"""Composing email from a record page, under /email/ and the `compose` namespace."""

from django.urls import path

from . import compose_views

app_name = "compose"

urlpatterns = [
    path("<str:kind>/<int:pk>/", compose_views.compose, name="compose"),
    path("<str:kind>/<int:pk>/fill/", compose_views.compose_fill, name="fill"),
]
