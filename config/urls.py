from django.contrib import admin
from django.urls import include, path

from closeloop.api.api import api
from closeloop.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("accounts/", include("closeloop.accounts.urls")),
    path("settings/", include("closeloop.core.settings_urls")),
    path("people/", include("closeloop.people.urls")),
    path("privacy/", include("closeloop.privacy.urls")),
    path("deals/", include("closeloop.pipeline.urls")),
    path("proposals/", include("closeloop.proposals.urls")),
    path("leads/", include("closeloop.leads.urls")),
    path("duplicates/", include("closeloop.leads.duplicate_urls")),
    path("", include("closeloop.leads.webform_urls")),
    path("", include("closeloop.activities.booking.urls")),
    path("imports/", include("closeloop.leads.import_urls")),
    path("trash/", core_views.trash, name="trash"),
    path("notifications/", include("closeloop.activities.urls")),
    path("calendar/", include("closeloop.activities.calendar_urls")),
    path("activities/", include("closeloop.activities.activity_urls")),
    path("work/", include("closeloop.activities.work_urls")),
    path("outbox/", include("closeloop.messaging.urls")),
    path("email/", include("closeloop.messaging.compose_urls")),
    path("proposals/", include("closeloop.proposals.document_urls")),
    path("p/", include("closeloop.proposals.public_urls")),
    path("analytics/", include("closeloop.analytics.urls")),
    path("customers/", include("closeloop.aftersales.urls")),
    path("", include("closeloop.aftersales.public_urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]
