"""The proposal document inside the app: draft preview, sent versions, PDFs and sending."""

from django.urls import path

from . import document_views as views

app_name = "proposal_docs"

urlpatterns = [
    path("<int:pk>/preview/", views.preview, name="preview"),
    path("<int:pk>/preview.pdf", views.preview_pdf, name="preview_pdf"),
    path("<int:pk>/versions/<int:number>/document/", views.version_document, name="version"),
    path("<int:pk>/versions/<int:number>/pdf", views.version_pdf, name="version_pdf"),
    path("<int:pk>/send/", views.send, name="send"),
]
