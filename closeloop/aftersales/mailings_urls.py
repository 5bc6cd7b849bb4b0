"""URL patterns of segments, mailings and consent, added to the aftersales URL modules."""

from django.urls import path

from . import mailings_views as views

urlpatterns = [
    path("segments/", views.segments, name="segments"),
    path("segments/<int:pk>/", views.segment_detail, name="segment_detail"),
    path("mailings/", views.mailings, name="mailings"),
    path("mailings/<int:pk>/", views.mailing_detail, name="mailing_detail"),
    path("mailings/<int:pk>/<str:action>/", views.mailing_action, name="mailing_action"),
    path("contacts/<int:pk>/consent/", views.contact_consent, name="contact_consent"),
]

public_urlpatterns = [
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
