"""The signed-in pages of post-purchase work (plans, surveys, coupons, mailings, referrals)."""

from django.urls import URLPattern, URLResolver

app_name = "aftersales"

urlpatterns: list[URLPattern | URLResolver] = []
