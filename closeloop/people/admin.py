"""Admin for organizations and contacts: the admin's escape hatch, trashed rows included."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from closeloop.core.admin import TrashedFilter

from .models import Contact, ContactEmail, ContactPhone, Organization
from .phones import normalize_phone


class WithTrashedAdmin(admin.ModelAdmin):
    """Admins see trashed rows too (the default manager hides them)."""

    readonly_fields = ["created_at", "updated_at", "deleted_at", "deleted_by"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = self.model.with_trashed.get_queryset()
        ordering = self.get_ordering(request)
        return qs.order_by(*ordering) if ordering else qs


@admin.register(Organization)
class OrganizationAdmin(WithTrashedAdmin):
    list_display = ["name", "domain", "owner", "created_at", "deleted_at"]
    list_filter = [TrashedFilter, "owner"]
    search_fields = ["name", "domain"]
    list_select_related = ["owner"]
    autocomplete_fields = ["owner"]


class ContactEmailInline(admin.TabularInline):
    model = ContactEmail
    extra = 1
    fields = ["email", "label", "is_primary"]


class ContactPhoneInline(admin.TabularInline):
    model = ContactPhone
    extra = 1
    fields = ["raw", "e164", "label", "is_primary"]
    readonly_fields = ["e164"]


@admin.register(Contact)
class ContactAdmin(WithTrashedAdmin):
    list_display = ["__str__", "job_title", "organization", "owner", "created_at", "deleted_at"]
    list_filter = [TrashedFilter, "owner"]
    search_fields = ["first_name", "last_name", "emails__email", "organization__name"]
    list_select_related = ["organization", "owner"]
    autocomplete_fields = ["organization", "owner"]
    inlines = [ContactEmailInline, ContactPhoneInline]
    readonly_fields = [*WithTrashedAdmin.readonly_fields, "version"]

    def save_model(self, request: HttpRequest, obj: Contact, form: Any, change: bool) -> None:
        if change:
            obj.version += 1  # a page open on the contact must not save over this change
        super().save_model(request, obj, form, change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # Keep the rules the services keep: emails lower-case, phones normalised to E.164.
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj.delete()
        for obj in instances:
            if isinstance(obj, ContactEmail):
                obj.email = obj.email.strip().lower()
            elif isinstance(obj, ContactPhone):
                obj.raw = obj.raw.strip()
                obj.e164 = normalize_phone(obj.raw)
            obj.save()
        formset.save_m2m()
