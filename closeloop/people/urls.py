from django.urls import path

from . import views

app_name = "people"

urlpatterns = [
    path("organizations/", views.organization_list_view, name="organization_list"),
    path("organizations/new/", views.organization_create, name="organization_create"),
    path("organizations/<int:pk>/", views.organization_detail, name="organization_detail"),
    path("organizations/<int:pk>/edit/", views.organization_edit, name="organization_edit"),
    path("organizations/<int:pk>/trash/", views.organization_trash, name="organization_trash"),
    path(
        "organizations/<int:pk>/restore/", views.organization_restore, name="organization_restore"
    ),
    path("organizations/<int:pk>/note/", views.organization_note, name="organization_note"),
    path("contacts/", views.contact_list_view, name="contact_list"),
    path("contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/<int:pk>/", views.contact_detail, name="contact_detail"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/trash/", views.contact_trash, name="contact_trash"),
    path("contacts/<int:pk>/restore/", views.contact_restore, name="contact_restore"),
    path("contacts/<int:pk>/note/", views.contact_note, name="contact_note"),
]
