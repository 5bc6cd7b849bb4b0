"""Negotiation pages, included in the `proposals` namespace (mounted at /proposals/)."""

from django.urls import path

from . import report_views, views

urlpatterns = [
    path("approvals/", views.approvals, name="approvals"),
    path("reports/", report_views.proposal_reports, name="reports"),
    path("approvals/<int:approval_pk>/decide/", views.approval_decision, name="approval_decide"),
    path("<int:pk>/approval/", views.approval_ask, name="approval_request"),
    path("<int:pk>/versions/", views.versions, name="versions"),
    path("<int:pk>/versions/<int:number>/", views.version_detail, name="version"),
    path("<int:pk>/versions/<int:number>/note/", views.version_note, name="version_note"),
]
