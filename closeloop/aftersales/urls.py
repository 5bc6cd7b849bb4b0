"""The signed-in pages of post-purchase work (plans, surveys, coupons, mailings, referrals)."""

from django.urls import URLPattern, URLResolver, path

from . import customer_views, referral_views

app_name = "aftersales"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", customer_views.customer_list, name="customers"),
    path("org/<int:pk>/", customer_views.customer_organization, name="customer_organization"),
    path("contact/<int:pk>/", customer_views.customer_contact, name="customer_contact"),
    path("referrals/", referral_views.referral_report_view, name="referrals"),
]
