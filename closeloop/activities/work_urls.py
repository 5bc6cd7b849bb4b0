from django.urls import path

from . import work_views as views

app_name = "work"

urlpatterns = [
    path("", views.my_work, name="my_work"),
    path("week/", views.week, name="week"),
]
