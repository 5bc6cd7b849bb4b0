from django.urls import path

from . import duplicate_views as views

app_name = "duplicates"

urlpatterns = [
    path("", views.duplicate_list, name="list"),
    path("scan/", views.duplicate_scan_view, name="scan"),
    path("<int:pk>/dismiss/", views.duplicate_dismiss_view, name="dismiss"),
    path("<int:pk>/merge/", views.lead_merge_view, name="lead_merge"),
    path(
        "contacts/<int:pk>/<int:other_pk>/merge/",
        views.contact_merge_view,
        name="contact_merge",
    ),
]
