from django.urls import path

from . import views

app_name = "activities"

urlpatterns = [
    path("", views.notifications, name="notifications"),
    path("read/", views.notifications_read, name="notifications_read"),
]
