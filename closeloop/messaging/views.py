"""The Outbox pages: every outgoing email, its state and attempts, read like a mail catcher."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from closeloop.core.exceptions import DomainError
from closeloop.core.uploads import served_type

from . import selectors, services
from .choices import MessageState
from .models import Message

# The HTML part is someone's markup: shown in a sandboxed frame, from its own URL, with no
# scripts, forms, plugins or frames of its own; images and inline styles are what mail uses.
HTML_PART_CSP = (
    "default-src 'none'; img-src data: https: http:; style-src 'unsafe-inline'; "
    "font-src data: https:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox"
)


def _message_or_404(request: HttpRequest, pk: int) -> Message:
    message = selectors.message_get(user=request.user, pk=pk)
    if message is None:
        raise Http404("No such message.")
    return message


@login_required
def outbox(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    if state not in MessageState.values:
        state = ""
    q = request.GET.get("q", "")[:200]
    qs = selectors.message_list(user=request.user, state=state, q=q)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    context = {
        "page_obj": page,
        "nav": "outbox",
        "filters": {"state": state, "q": q},
        "filtered": bool(state or q),
        "states": MessageState.choices,
        "mail_server": bool(settings.EMAIL_URL),
    }
    return render(request, "messaging/outbox.html", context)


@login_required
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = _message_or_404(request, pk)
    context = {
        "message": message,
        "nav": "outbox",
        "resendable": message.state in services.RESENDABLE,
        "mail_server": bool(settings.EMAIL_URL),
    }
    return render(request, "messaging/message_detail.html", context)


@login_required
@xframe_options_sameorigin
def message_html(request: HttpRequest, pk: int) -> HttpResponse:
    message = _message_or_404(request, pk)
    response = HttpResponse(message.html_body, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = HTML_PART_CSP
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_required
def attachment_download(request: HttpRequest, pk: int, attachment_pk: int) -> FileResponse:
    attachment = selectors.message_attachment_get(
        user=request.user, message_pk=pk, pk=attachment_pk
    )
    if attachment is None:
        raise Http404("No such attachment.")
    return _download(attachment)


def _download(attachment: Any) -> FileResponse:
    """A stored file, always downloaded (never shown inline), with no active content allowed:
    a type a browser would render (HTML, SVG, XML), whatever the sender claimed, goes out as
    application/octet-stream."""
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=served_type(attachment.content_type),
    )
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_required
def timeline_file(request: HttpRequest, source: str, pk: int) -> FileResponse:
    attachment = selectors.timeline_file_get(user=request.user, source=source, pk=pk)
    if attachment is None:
        raise Http404("No such file.")
    return _download(attachment)


@login_required
@require_POST
def message_resend(request: HttpRequest, pk: int) -> HttpResponse:
    message = _message_or_404(request, pk)
    try:
        services.message_resend(actor=request.user, message=message)
    except DomainError as exc:
        flash.error(request, exc.message)
    else:
        flash.success(request, "The message is queued again; the worker sends it shortly.")
    return redirect("messaging:detail", pk=message.pk)
