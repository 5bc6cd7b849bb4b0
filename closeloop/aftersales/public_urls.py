"""Public pages reached through signed links: surveys, unsubscribe, referral landing."""

from django.urls import URLPattern, URLResolver, path

from . import referral_views, surveys_views
from .mailings_urls import public_urlpatterns as mailing_urls

app_name = "aftersales_public"

urlpatterns: list[URLPattern | URLResolver] = [
    path("s/<str:token>/", surveys_views.survey_public, name="survey"),
    # <token> is the referrer's contact id signed with a salt (referrals.referral_token)
    path("r/<str:token>/", referral_views.referral_landing, name="referral"),
    *mailing_urls,
]
