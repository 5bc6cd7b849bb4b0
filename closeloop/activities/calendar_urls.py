"""The private calendar feed (/calendar/<token>.ics) and its settings on the profile."""

from django.urls import path

from . import feed_views as views

app_name = "calendar"

urlpatterns = [
    # <token> is the user's id and feed key, signed (see feed.calendar_feed_token)
    path("<str:token>.ics", views.feed, name="feed"),
    path("feed/reset/", views.feed_reset, name="feed_reset"),
    path("reminders/", views.reminders, name="reminders"),
]
