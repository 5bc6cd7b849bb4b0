"""Settings › Follow-up plans, mounted at /settings/follow-up-plans/ (namespace settings:plans)."""

from django.urls import path

from . import plans_views as views

app_name = "plans"

urlpatterns = [
    path("", views.plan_templates, name="list"),
    path("new/", views.plan_template_create, name="create"),
    path("<int:pk>/", views.plan_template_edit, name="edit"),
    path("<int:pk>/active/", views.plan_template_toggle, name="toggle"),
    path("<int:pk>/steps/new/", views.plan_step_add, name="step_add"),
    path("steps/<int:pk>/", views.plan_step_edit, name="step_edit"),
    path("steps/<int:pk>/move/", views.plan_step_move, name="step_move"),
    path("steps/<int:pk>/delete/", views.plan_step_delete, name="step_delete"),
]
