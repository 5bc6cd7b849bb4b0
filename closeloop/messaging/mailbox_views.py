"""Settings → Mailbox (admins): is the lead mailbox working, and a button to poll it now."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from closeloop.accounts.views import admin_required
from closeloop.core.exceptions import DomainError

from .inbound.polling import mailbox_poll_request
from .inbound.selectors import mailbox_status


@admin_required
def mailbox(request: HttpRequest) -> HttpResponse:
    """The mailbox's configuration, last successful poll, last error and recent polls."""
    context = {"nav": "settings", "section": "mailbox", "status": mailbox_status()}
    return render(request, "settings/mailbox.html", context)


@admin_required
@require_POST
def mailbox_poll_now(request: HttpRequest) -> HttpResponse:
    try:
        mailbox_poll_request(actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The mailbox is being read now; reload in a moment.")
    return redirect("settings:mailbox")
