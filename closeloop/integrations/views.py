"""Webhook pages: subscriptions (list, create, edit, secret, test ping, delete), each one's
delivery log, and a delivery's attempts with manual redelivery. Admins see every subscription,
everyone else their own; a subscription one may not see is a 404 like a missing one."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from closeloop.core.exceptions import DomainError
from closeloop.core.http import found_or_404

from .choices import DeliveryState
from .events import EVENT_TYPES
from .forms import WebhookSubscriptionForm
from .selectors import (
    webhook_deliveries,
    webhook_delivery_get,
    webhook_subscription_get,
    webhook_subscription_list,
)
from .services import (
    webhook_delivery_redeliver,
    webhook_ping,
    webhook_subscription_create,
    webhook_subscription_delete,
    webhook_subscription_rotate_secret,
    webhook_subscription_update,
)

PAGE_SIZE = 50


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    user: Any = request.user
    if user.is_admin or user.is_manager:
        return {"nav": "settings", "section": "webhooks", "layout": "settings/base.html", **extra}
    # Reps have no settings menu: they come here from their profile.
    return {"nav": "profile", "layout": "settings/booking_rep_base.html", **extra}


def _form_error(form: WebhookSubscriptionForm, error: DomainError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


@login_required
def subscription_list(request: HttpRequest) -> HttpResponse:
    subscriptions = list(webhook_subscription_list(user=request.user))
    return render(
        request,
        "integrations/subscriptions.html",
        _context(request, subscriptions=subscriptions, event_types=EVENT_TYPES),
    )


@login_required
def subscription_create(request: HttpRequest) -> HttpResponse:
    form = WebhookSubscriptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            subscription = webhook_subscription_create(
                actor=request.user,
                url=data["url"],
                events=data["events"],
                description=data["description"],
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Subscribed. Use the secret below to check signatures.")
            return redirect("settings:webhooks:detail", subscription.pk)
    return render(
        request, "integrations/subscription_form.html", _context(request, form=form, creating=True)
    )


@login_required
def subscription_detail(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = found_or_404(webhook_subscription_get(user=request.user, pk=pk))
    state = request.GET.get("state", "")
    deliveries = webhook_deliveries(user=request.user, subscription=subscription, state=state)
    return render(
        request,
        "integrations/subscription_detail.html",
        _context(
            request,
            subscription=subscription,
            page_obj=Paginator(deliveries, PAGE_SIZE).get_page(request.GET.get("page")),
            state=state,
            states=DeliveryState.choices,
            shows_secret=subscription.owner_id == request.user.pk,
        ),
    )


@login_required
def subscription_edit(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = found_or_404(webhook_subscription_get(user=request.user, pk=pk))
    initial = {
        "url": subscription.url,
        "description": subscription.description,
        "events": subscription.events,
        "is_active": subscription.is_active,
    }
    form = WebhookSubscriptionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            webhook_subscription_update(
                actor=request.user,
                subscription=subscription,
                url=data["url"],
                events=data["events"],
                description=data["description"],
                is_active=data["is_active"],
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Subscription saved.")
            return redirect("settings:webhooks:detail", subscription.pk)
    return render(
        request,
        "integrations/subscription_form.html",
        _context(request, form=form, subscription=subscription, creating=False),
    )


def _act(request: HttpRequest, pk: int, action: Any, done: str) -> HttpResponse:
    subscription = found_or_404(webhook_subscription_get(user=request.user, pk=pk))
    try:
        action(actor=request.user, subscription=subscription)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("settings:webhooks:detail", subscription.pk)


@login_required
@require_POST
def subscription_rotate_secret(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        webhook_subscription_rotate_secret,
        "A new secret is in use: update your receiver now.",
    )


@login_required
@require_POST
def subscription_ping(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, webhook_ping, "A test ping is on its way; it shows in the log below.")


@login_required
@require_POST
def subscription_delete(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = found_or_404(webhook_subscription_get(user=request.user, pk=pk))
    try:
        webhook_subscription_delete(actor=request.user, subscription=subscription)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("settings:webhooks:detail", subscription.pk)
    messages.success(request, f"The subscription for {subscription.url} was deleted.")
    return redirect("settings:webhooks:list")


@login_required
def delivery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = found_or_404(webhook_delivery_get(user=request.user, pk=pk))
    return render(
        request,
        "integrations/delivery_detail.html",
        _context(
            request,
            delivery=delivery,
            subscription=delivery.subscription,
            attempts=list(delivery.attempt_log.all()),
        ),
    )


@login_required
@require_POST
def delivery_redeliver(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = found_or_404(webhook_delivery_get(user=request.user, pk=pk))
    try:
        webhook_delivery_redeliver(actor=request.user, delivery=delivery)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Redelivery queued; the attempt shows below in a moment.")
    return redirect("settings:webhooks:delivery", delivery.pk)
