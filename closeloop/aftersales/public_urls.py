"""Public pages reached through signed links: surveys, unsubscribe, referral landing."""

from django.urls import URLPattern, URLResolver

app_name = "aftersales_public"

urlpatterns: list[URLPattern | URLResolver] = []
