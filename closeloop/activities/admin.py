"""The Django admin shows activities read-only; they are written by the services."""

from __future__ import annotations

from django.contrib import admin

from closeloop.pipeline.admin import ReadOnlyAdminMixin

from .models import Activity


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "kind", "actor", "deal", "contact", "organization", "created_at"]
    list_filter = ["kind"]
    search_fields = ["subject", "body"]
    list_select_related = ["actor", "deal", "contact", "organization"]
    date_hierarchy = "created_at"
