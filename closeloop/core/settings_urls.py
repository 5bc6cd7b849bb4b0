"""Settings pages of every app, under /settings/ and the `settings` namespace."""

from django.urls import include, path

from closeloop.accounts import views as account_views
from closeloop.aftersales import referral_views
from closeloop.core import audit_views
from closeloop.leads import assignment_views, qualification_settings_views
from closeloop.messaging import mailbox_views, template_views
from closeloop.pipeline import settings_views as pipeline_views

app_name = "settings"

urlpatterns = [
    path("", pipeline_views.pipelines, name="pipelines"),
    path("pipelines/new/", pipeline_views.pipeline_create, name="pipeline_create"),
    path("pipelines/<int:pk>/", pipeline_views.pipeline_update, name="pipeline_update"),
    path(
        "pipelines/<int:pk>/automation/",
        pipeline_views.pipeline_automation,
        name="pipeline_automation",
    ),
    path("pipelines/<int:pk>/stages/new/", pipeline_views.stage_create, name="stage_create"),
    path("stages/<int:pk>/", pipeline_views.stage_edit, name="stage_edit"),
    path("stages/<int:pk>/move/", pipeline_views.stage_move, name="stage_move"),
    path("stages/<int:pk>/delete/", pipeline_views.stage_delete, name="stage_delete"),
    path("lost-reasons/", pipeline_views.lost_reasons, name="lost_reasons"),
    path("lost-reasons/new/", pipeline_views.lost_reason_create, name="lost_reason_create"),
    path("lost-reasons/<int:pk>/", pipeline_views.lost_reason_update, name="lost_reason_update"),
    path("users/", account_views.users, name="users"),
    path("users/new/", account_views.user_create, name="user_create"),
    path("users/<int:pk>/", account_views.user_edit, name="user_edit"),
    path("users/<int:pk>/password/", account_views.user_set_password, name="user_set_password"),
    path("users/<int:pk>/active/", account_views.user_set_active, name="user_set_active"),
    path("teams/new/", account_views.team_create, name="team_create"),
    path("workspace/", account_views.workspace, name="workspace"),
    path("assignment/", assignment_views.assignment_rules, name="assignment_rules"),
    path("assignment/new/", assignment_views.assignment_rule_create, name="assignment_rule_create"),
    path(
        "assignment/<int:pk>/", assignment_views.assignment_rule_edit, name="assignment_rule_edit"
    ),
    path(
        "assignment/<int:pk>/active/",
        assignment_views.assignment_rule_toggle,
        name="assignment_rule_toggle",
    ),
    path(
        "assignment/<int:pk>/move/",
        assignment_views.assignment_rule_move,
        name="assignment_rule_move",
    ),
    path(
        "assignment/<int:pk>/delete/",
        assignment_views.assignment_rule_delete,
        name="assignment_rule_delete",
    ),
    path(
        "qualification/",
        qualification_settings_views.qualification_settings,
        name="qualification",
    ),
    path("email-templates/", template_views.email_templates, name="email_templates"),
    path(
        "email-templates/new/", template_views.email_template_create, name="email_template_create"
    ),
    path(
        "email-templates/preview/",
        template_views.email_template_preview,
        name="email_template_preview",
    ),
    path(
        "email-templates/<int:pk>/", template_views.email_template_edit, name="email_template_edit"
    ),
    path(
        "email-templates/<int:pk>/delete/",
        template_views.email_template_delete,
        name="email_template_delete",
    ),
    path("mailbox/", mailbox_views.mailbox, name="mailbox"),
    path("mailbox/poll/", mailbox_views.mailbox_poll_now, name="mailbox_poll"),
    path("follow-up-plans/", include("closeloop.aftersales.plans_settings_urls")),
    path("surveys/", include("closeloop.aftersales.survey_settings_urls")),
    path("referrals/", referral_views.referral_settings_view, name="referrals"),
    path("webhooks/", include("closeloop.integrations.urls")),
    path("audit/", audit_views.audit_log_page, name="audit"),
]
