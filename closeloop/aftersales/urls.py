"""The signed-in pages of post-purchase work (plans, surveys, coupons, mailings, referrals)."""

from django.urls import URLPattern, URLResolver

app_name = "aftersales"

urlpatterns: list[URLPattern | URLResolver] = []

from .mailings_urls import urlpatterns as mailing_urls  # noqa: E402

urlpatterns += mailing_urls
