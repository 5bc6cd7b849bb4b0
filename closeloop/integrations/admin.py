"""Admin for webhooks: the escape hatch to look at subscriptions, events and deliveries.

Changes go through the pages and the API (services); here everything is read-only.
"""

from __future__ import annotations

from django.contrib import admin

from .models import WebhookAttempt, WebhookDelivery, WebhookEvent, WebhookSubscription


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["url", "owner", "is_active", "disabled_at", "last_delivered_at", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "description", "owner__email"]
    list_select_related = ["owner"]
    exclude = ["secret"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ("attempted_at", "status_code", "error", "duration_ms", "manual")
    readonly_fields = fields


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["event", "subscription", "state", "attempts", "last_status_code",
                    "next_attempt_at", "created_at"]  # fmt: skip
    list_filter = ["state"]
    list_select_related = ["event", "subscription"]
    inlines = [WebhookAttemptInline]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["name", "event_id", "occurred_at"]
    list_filter = ["name"]
    search_fields = ["event_id"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
