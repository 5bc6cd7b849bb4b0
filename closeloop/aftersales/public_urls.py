"""Public pages reached through signed links: surveys, unsubscribe, referral landing."""

from django.urls import URLPattern, URLResolver, path

from . import surveys_views

app_name = "aftersales_public"

urlpatterns: list[URLPattern | URLResolver] = []

from .mailings_urls import public_urlpatterns as mailing_urls  # noqa: E402

urlpatterns += mailing_urls
urlpatterns: list[URLPattern | URLResolver] = [
    path("s/<str:token>/", surveys_views.survey_public, name="survey"),
    # a stand-in until the referrals part adds its landing page under the same name
    path("r/<str:token>/", surveys_views.referral_landing, name="referral"),
from . import referral_views

app_name = "aftersales_public"

urlpatterns: list[URLPattern | URLResolver] = [
    # <token> is the referrer's contact id signed with a salt (referrals.referral_token)
    path("r/<str:token>/", referral_views.referral_landing, name="referral"),
]
