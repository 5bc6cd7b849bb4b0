"""The signed-in pages of post-purchase work (plans, surveys, coupons, mailings, referrals)."""

from django.urls import URLPattern, URLResolver, include, path

app_name = "aftersales"

urlpatterns: list[URLPattern | URLResolver] = []
urlpatterns += [path("coupons/", include("closeloop.aftersales.coupon_urls"))]
