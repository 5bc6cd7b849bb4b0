from django.urls import path

from . import planning_views as views

app_name = "activity"

urlpatterns = [
    path(
        "schedule/<str:kind>/<int:pk>/",
        views.schedule,
        name="schedule",
    ),
    path("<int:pk>/", views.activity_detail, name="detail"),
    path("<int:pk>/reschedule/", views.activity_reschedule_view, name="reschedule"),
    path("<int:pk>/complete/", views.activity_complete_view, name="complete"),
    path("<int:pk>/cancel/", views.activity_cancel_view, name="cancel"),
    path("<int:pk>/calendar.ics", views.activity_ics_download, name="ics"),
]
