from django.urls import path

from . import qualification_views, report_views, views

app_name = "leads"

urlpatterns = [
    path("", views.lead_list_view, name="lead_list"),
    path("new/", views.lead_create, name="lead_create"),
    path("bulk/", views.lead_bulk, name="lead_bulk"),
    path("<int:pk>/", views.lead_detail, name="lead_detail"),
    path("<int:pk>/edit/", views.lead_edit, name="lead_edit"),
    path("<int:pk>/note/", views.lead_note, name="lead_note"),
    path("<int:pk>/trash/", views.lead_trash, name="lead_trash"),
    path("<int:pk>/restore/", views.lead_restore, name="lead_restore"),
    path(
        "<int:pk>/scorecard/<int:criterion_pk>/",
        qualification_views.lead_scorecard_save,
        name="lead_scorecard_save",
    ),
    path("<int:pk>/qualify/", qualification_views.lead_qualify, name="lead_qualify"),
    path("<int:pk>/nurture/", qualification_views.lead_nurture, name="lead_nurture"),
    path("<int:pk>/disqualify/", qualification_views.lead_disqualify, name="lead_disqualify"),
    path("<int:pk>/reopen/", qualification_views.lead_reopen, name="lead_reopen"),
    path("campaigns/", views.campaign_list_view, name="campaign_list"),
    path("campaigns/new/", views.campaign_create, name="campaign_create"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/edit/", views.campaign_edit, name="campaign_edit"),
    path("sources/", views.source_list_view, name="source_list"),
    path("reports/", report_views.lead_reports, name="reports"),
]
