"""Proposals under /proposals/ (namespace `proposals`): the catalogue and template settings,
starting a proposal on a deal, the proposal page, material downloads, and the negotiation pages
(versions, approvals, reports)."""

from django.urls import path

from . import catalogue_views, editor_views
from .negotiation.urls import urlpatterns as negotiation_urlpatterns

app_name = "proposals"

urlpatterns = [
    path("products/", catalogue_views.products, name="products"),
    path("products/new/", catalogue_views.product_form, name="product_create"),
    path("products/<int:pk>/", catalogue_views.product_form, name="product_edit"),
    path("products/<int:pk>/active/", catalogue_views.product_active, name="product_active"),
    path("templates/", catalogue_views.templates, name="templates"),
    path("templates/new/", catalogue_views.template_create, name="template_create"),
    path("templates/<int:pk>/", catalogue_views.template_edit, name="template_edit"),
    path(
        "templates/<int:pk>/materials/",
        catalogue_views.template_materials,
        name="template_materials",
    ),
    path("discount-limits/", catalogue_views.discount_limits, name="discount_limits"),
    path("branding/", catalogue_views.branding, name="branding"),
    path("new/<int:deal_pk>/", editor_views.proposal_new, name="new"),
    path("<int:pk>/", editor_views.proposal_detail, name="detail"),
    path("<int:pk>/totals/", editor_views.proposal_totals, name="totals"),
    path("<int:pk>/materials/", editor_views.proposal_materials, name="materials"),
    path("materials/<int:pk>/", editor_views.material_download, name="material_download"),
    *negotiation_urlpatterns,
]
