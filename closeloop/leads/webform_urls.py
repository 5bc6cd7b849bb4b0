"""Web form pages: the builder under /settings/webforms/ and the public forms under /f/<key>/."""

from django.urls import path

from . import webform_views as views

app_name = "webforms"

urlpatterns = [
    path("settings/webforms/", views.webform_list_view, name="list"),
    path("settings/webforms/new/", views.webform_create_view, name="create"),
    path("settings/webforms/<int:pk>/", views.webform_edit_view, name="edit"),
    path("settings/webforms/<int:pk>/active/", views.webform_set_active_view, name="set_active"),
    path("settings/webforms/<int:pk>/embed/", views.webform_embed_view, name="embed"),
    # <token> is the form's key signed with a salt (see webforms.webform_public_token).
    path("f/<str:token>/", views.public_form, name="public_form"),
    path("f/<str:token>/submit", views.public_submit, name="public_submit"),
    path("f/<str:token>/started", views.public_started, name="public_started"),
    path("f/<str:token>/thanks/", views.public_thanks, name="public_thanks"),
]
