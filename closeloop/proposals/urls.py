"""Proposal pages (namespace `proposals`, mounted at /proposals/)."""

from django.urls import path

from .negotiation import views as negotiation_views
from .negotiation.urls import urlpatterns as negotiation_urlpatterns

app_name = "proposals"
urlpatterns = [
    # the proposal page; P1's editor takes this name when its branch is merged
    path("<int:pk>/", negotiation_views.versions, name="detail"),
    *negotiation_urlpatterns,
]
