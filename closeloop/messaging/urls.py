from django.urls import path

from . import views

app_name = "messaging"

urlpatterns = [
    path("", views.outbox, name="outbox"),
    path("<int:pk>/", views.message_detail, name="detail"),
    path("<int:pk>/html/", views.message_html, name="html"),
    path("<int:pk>/resend/", views.message_resend, name="resend"),
    path("<int:pk>/attachments/<int:attachment_pk>/", views.attachment_download, name="attachment"),
    # a file of an email on a timeline, for whoever may see one of the records it concerns
    path("files/<str:source>/<int:pk>/", views.timeline_file, name="timeline_file"),
]
