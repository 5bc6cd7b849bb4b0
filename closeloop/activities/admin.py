"""The Django admin shows activities read-only; they are written by the services."""

from __future__ import annotations

from django.contrib import admin

from closeloop.pipeline.admin import ReadOnlyAdminMixin

from .models import Activity, Booking, BookingPage


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "kind", "actor", "deal", "contact", "organization", "created_at"]
    list_filter = ["kind"]
    search_fields = ["subject", "body"]
    list_select_related = ["actor", "deal", "contact", "organization"]
    date_hierarchy = "created_at"


@admin.register(BookingPage)
class BookingPageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["title", "slug", "owner", "team", "active"]
    list_select_related = ["owner", "team"]
    search_fields = ["title", "slug"]


@admin.register(Booking)
class BookingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["visitor_name", "visitor_email", "meeting_type", "assigned_to", "created_at"]
    list_select_related = ["meeting_type", "assigned_to"]
    search_fields = ["visitor_name", "visitor_email", "visitor_company"]
    date_hierarchy = "created_at"
