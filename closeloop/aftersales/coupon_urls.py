"""Coupon pages under /customers/coupons/ (names in the `aftersales` namespace)."""

from django.urls import path

from . import coupon_views as views

urlpatterns = [
    path("", views.coupon_list_view, name="coupon_list"),
    path("new/", views.coupon_issue_view, name="coupon_issue"),
    path("<int:pk>/", views.coupon_detail, name="coupon_detail"),
    path("<int:pk>/withdraw/", views.coupon_withdraw_view, name="coupon_withdraw"),
    path(
        "customer/<str:kind>/<int:pk>/check/",
        views.customer_coupon_check,
        name="customer_coupon_check",
    ),
    path(
        "customer/<str:kind>/<int:pk>/redeem/",
        views.customer_coupon_redeem,
        name="customer_coupon_redeem",
    ),
    path("redemptions/<int:pk>/deal/", views.redemption_link_deal, name="redemption_link_deal"),
]
