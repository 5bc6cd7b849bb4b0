"""The customer's pages of a proposal version, at /p/<token>/ (the token is signed and expires)."""

from django.urls import path

from . import public_views as views

app_name = "proposals_public"

urlpatterns = [
    path("<str:token>/", views.view, name="view"),
    path("<str:token>/pdf", views.pdf, name="pdf"),
    path("<str:token>/materials/<int:pk>", views.material, name="material"),
    path("<str:token>/accept", views.accept, name="accept"),
    path("<str:token>/decline", views.decline, name="decline"),
    path("<str:token>/changes", views.changes, name="changes"),
]
