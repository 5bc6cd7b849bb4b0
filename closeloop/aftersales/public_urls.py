"""Public pages reached through signed links: surveys, unsubscribe, referral landing."""

from django.urls import URLPattern, URLResolver

app_name = "aftersales_public"

urlpatterns: list[URLPattern | URLResolver] = []

from .mailings_urls import public_urlpatterns as mailing_urls  # noqa: E402

urlpatterns += mailing_urls
