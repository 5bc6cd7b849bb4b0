"""Booking links: public pages under /book/ and their settings under /settings/booking/."""

from django.urls import path

from . import public_views, settings_views

app_name = "booking"

urlpatterns = [
    path("settings/booking/", settings_views.booking_settings, name="settings"),
    path("settings/booking/hours/", settings_views.availability_edit, name="settings_hours"),
    path("settings/booking/pages/new/", settings_views.booking_page_edit, name="settings_page_new"),
    path(
        "settings/booking/pages/<int:pk>/", settings_views.booking_page_edit, name="settings_page"
    ),
    path(
        "settings/booking/pages/<int:page_pk>/types/new/",
        settings_views.meeting_type_edit,
        name="settings_type_new",
    ),
    path(
        "settings/booking/pages/<int:page_pk>/types/<int:pk>/",
        settings_views.meeting_type_edit,
        name="settings_type",
    ),
    # <token> is a booking's id signed with a salt (services.booking_token); it dies with the
    # meeting.
    path("book/manage/<str:token>/", public_views.manage_view, name="manage"),
    path("book/manage/<str:token>/reschedule/", public_views.reschedule_view, name="reschedule"),
    path("book/manage/<str:token>/cancel/", public_views.cancel_view, name="cancel"),
    path("book/<slug:slug>/", public_views.page_view, name="page"),
    path("book/<slug:slug>/<int:type_pk>/", public_views.slots_view, name="slots"),
    path("book/<slug:slug>/<int:type_pk>/book/", public_views.book_view, name="book"),
]
