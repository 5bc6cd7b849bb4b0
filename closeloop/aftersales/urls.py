"""The signed-in pages of post-purchase work (plans, surveys, coupons, mailings, referrals)."""

from django.urls import URLPattern, URLResolver, path

from . import surveys_views

app_name = "aftersales"

urlpatterns: list[URLPattern | URLResolver] = [
    path("surveys/", surveys_views.survey_results_page, name="surveys"),
    path("surveys/send/<str:kind>/<int:pk>/", surveys_views.survey_send, name="survey_send"),
]
