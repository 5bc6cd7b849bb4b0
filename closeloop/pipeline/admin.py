"""The Django admin shows pipelines, stages, deals and their history read-only.

Every change to them goes through the services (the settings pages and the deal pages): the admin
would save rows directly and skip what the services record (stage changes, versions, defaults).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from closeloop.core.admin import TrashedFilter

from .models import Deal, LostReason, Pipeline, Stage, StageChange


class ReadOnlyAdminMixin:
    """View-only admin: no add, change or delete."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StageInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Stage
    fields = ["position", "name", "probability", "rot_days", "is_optional"]
    ordering = ["position", "pk"]
    extra = 0


@admin.register(Pipeline)
class PipelineAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "is_default", "position", "created_at"]
    inlines = [StageInline]


@admin.register(Stage)
class StageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "pipeline", "position", "probability", "rot_days", "is_optional"]
    list_filter = ["pipeline", "is_optional"]
    search_fields = ["name"]
    list_select_related = ["pipeline"]


@admin.register(LostReason)
class LostReasonAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "is_active", "position"]
    list_filter = ["is_active"]
    search_fields = ["name"]


class StageChangeInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = StageChange
    fields = ["changed_at", "from_stage", "to_stage", "from_status", "to_status", "actor"]
    extra = 0


@admin.register(Deal)
class DealAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["title", "organization", "owner", "pipeline", "stage", "status", "value",
                    "currency", "expected_close_date", "created_at", "deleted_at"]  # fmt: skip
    list_filter = ["status", "pipeline", "stage", "owner", TrashedFilter, "lost_reason"]
    search_fields = ["title", "organization__name", "contact__last_name", "owner__email"]
    list_select_related = ["organization", "owner", "pipeline", "stage"]
    date_hierarchy = "created_at"
    inlines = [StageChangeInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Deal]:
        # The admin lists trashed deals too (filter "trash"); `objects` would hide them.
        return Deal.with_trashed.all()


@admin.register(StageChange)
class StageChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["deal", "from_stage", "to_stage", "from_status", "to_status", "actor",
                    "changed_at"]  # fmt: skip
    list_filter = ["to_status", "to_stage"]
    search_fields = ["deal__title"]
    list_select_related = ["deal", "from_stage", "to_stage", "actor"]
    date_hierarchy = "changed_at"
