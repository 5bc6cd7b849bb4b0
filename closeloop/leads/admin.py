"""Admin for leads, sources and campaigns: leads are view-only, the others save via services.

A lead saved by the admin would skip the duplicate checks, organization detection and timeline
entries the services make, so leads are changed on the lead pages (or the API) only.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from closeloop.core.admin import TrashedFilter
from closeloop.core.exceptions import DomainError

from . import services
from .models import Campaign, Lead, Source


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ["__str__", "email", "company_name", "status", "source", "owner", "created_at",
                    "deleted_at"]  # fmt: skip
    list_filter = [TrashedFilter, "status", "source", "campaign", "owner"]
    search_fields = ["first_name", "last_name", "email", "company_name", "external_id"]
    list_select_related = ["source", "owner"]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = Lead.with_trashed.get_queryset()
        ordering = self.get_ordering(request)
        return qs.order_by(*ordering) if ordering else qs

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ServiceCheckedForm(forms.ModelForm):
    """Runs the service's checks while the form validates, so a refusal shows on the form."""

    def check(self, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or self.cleaned_data
        if not self.errors:
            try:
                self.check(data)
            except DomainError as error:
                self.add_error(error.field if error.field in self.fields else None, error.message)
        return data


class SourceAdminForm(ServiceCheckedForm):
    class Meta:
        model = Source
        fields = ["name", "is_active"]

    def check(self, data: dict[str, Any]) -> None:
        services.clean_source_name(data.get("name") or "", exclude_pk=self.instance.pk)


class CampaignAdminForm(ServiceCheckedForm):
    class Meta:
        model = Campaign
        fields = list(services.CAMPAIGN_FIELDS)

    def check(self, data: dict[str, Any]) -> None:
        values = {name: data.get(name) for name in services.CAMPAIGN_FIELDS}
        services.clean_campaign(values, exclude_pk=self.instance.pk)


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    form = SourceAdminForm
    list_display = ["name", "is_active", "position"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    fields = ["name", "is_active"]

    def save_model(self, request: HttpRequest, obj: Source, form: Any, change: bool) -> None:
        if change:
            services.source_update(
                actor=request.user, source=obj, name=obj.name, is_active=obj.is_active
            )
        else:
            obj.pk = services.source_create(actor=request.user, name=obj.name).pk

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # retire a source instead: leads keep it


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignAdminForm
    list_display = ["name", "channel", "starts_on", "ends_on", "cost", "currency", "utm_campaign"]
    list_filter = ["channel"]
    search_fields = ["name", "utm_campaign"]
    fields = list(services.CAMPAIGN_FIELDS)

    def save_model(self, request: HttpRequest, obj: Campaign, form: Any, change: bool) -> None:
        values = {name: form.cleaned_data[name] for name in services.CAMPAIGN_FIELDS}
        if change:
            services.campaign_update(actor=request.user, campaign=obj, **values)
        else:
            obj.pk = services.campaign_create(actor=request.user, **values).pk

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
