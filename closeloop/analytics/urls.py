from django.urls import path

from . import views
from .target_views import targets

app_name = "analytics"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("targets/", targets, name="targets"),
    path("<slug:key>/", views.report_page, name="report"),
]
