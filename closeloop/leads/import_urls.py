from django.urls import path

from . import import_views as views

app_name = "imports"

urlpatterns = [
    path("", views.import_list, name="list"),
    path("new/", views.import_upload, name="upload"),
    path("<int:pk>/", views.import_detail, name="detail"),
    path("<int:pk>/mapping/", views.import_mapping, name="mapping"),
    path("<int:pk>/preview/", views.import_preview, name="preview"),
    path("<int:pk>/run/", views.import_run, name="run"),
    path("<int:pk>/status/", views.import_status, name="status"),
    path("<int:pk>/failed.csv", views.import_failed_csv, name="failed_csv"),
    path("<int:pk>/undo/", views.import_undo, name="undo"),
]
