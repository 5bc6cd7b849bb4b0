"""The signed-in pages of post-purchase work (customers, plans, surveys, mailings, referrals)."""

from django.urls import URLPattern, URLResolver, include, path

from . import customer_views, plans_views, referral_views, surveys_views
from .mailings_urls import urlpatterns as mailing_urls

app_name = "aftersales"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", customer_views.customer_list, name="customers"),
    path("org/<int:pk>/", customer_views.customer_organization, name="customer_organization"),
    path("contact/<int:pk>/", customer_views.customer_contact, name="customer_contact"),
    path("referrals/", referral_views.referral_report_view, name="referrals"),
    path("plans/<int:pk>/cancel/", plans_views.plan_cancel, name="plan_cancel"),
    path("plans/<int:pk>/delivery/", plans_views.plan_delivery, name="plan_delivery"),
    path("plans/steps/<int:pk>/skip/", plans_views.plan_step_skip, name="plan_step_skip"),
    path("surveys/", surveys_views.survey_results_page, name="surveys"),
    path("surveys/send/<str:kind>/<int:pk>/", surveys_views.survey_send, name="survey_send"),
    path("coupons/", include("closeloop.aftersales.coupon_urls")),
    *mailing_urls,
]
