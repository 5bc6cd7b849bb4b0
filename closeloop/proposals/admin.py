"""The Django admin shows the catalogue and proposals read-only; the services write them."""

from __future__ import annotations

from django.contrib import admin

from closeloop.pipeline.admin import ReadOnlyAdminMixin

from .models import Product, Proposal, ProposalTemplate, ProposalVersion


@admin.register(Product)
class ProductAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "sku", "unit_price", "currency", "billing", "is_active"]
    search_fields = ["name", "sku"]


@admin.register(ProposalTemplate)
class ProposalTemplateAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "currency", "is_active"]


@admin.register(Proposal)
class ProposalAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["title", "deal", "status", "version_count", "created_at"]
    list_filter = ["status"]
    list_select_related = ["deal"]


@admin.register(ProposalVersion)
class ProposalVersionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["proposal", "number", "created_at"]
    list_select_related = ["proposal"]
