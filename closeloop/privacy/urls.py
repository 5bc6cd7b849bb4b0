from django.urls import path

from . import views

app_name = "privacy"

urlpatterns = [
    path("contacts/<int:pk>/export/", views.contact_export_download, name="contact_export"),
    path("contacts/<int:pk>/erase/", views.contact_erase_page, name="contact_erase"),
]
