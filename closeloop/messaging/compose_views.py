"""Composing an email from a lead, contact or deal page (only for records the user may see)."""

from __future__ import annotations

from email.utils import formataddr
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from closeloop.core.exceptions import DomainError
from closeloop.core.http import found_or_404

from .compose import email_compose_send, template_uses_signature
from .compose_forms import ComposeForm
from .html_mail import html_to_text
from .merge import merge_context_for, merge_render_email
from .template_selectors import email_record_get, email_template_get, email_template_list

DETAIL_PAGES = {
    "lead": "leads:lead_detail",
    "contact": "people:contact_detail",
    "deal": "pipeline:deal_detail",
}
BODY_FIELDS = ("subject", "text_body", "html_body", "add_signature")


def _record_or_404(request: HttpRequest, kind: str, pk: int) -> Any:
    return found_or_404(email_record_get(user=request.user, kind=kind, pk=pk))


def _recipient(kind: str, record: Any) -> str:
    """The record's person as "Name <address>", or "" when there is no address."""
    person = record.contact if kind == "deal" else record
    if person is None:
        return ""
    address = person.email if kind == "lead" else person.primary_email
    return formataddr((person.full_name, address)) if address else ""


def _record_label(kind: str, record: Any) -> str:
    return record.title if kind == "deal" else record.full_name


def _page(request: HttpRequest, kind: str, record: Any, form: ComposeForm) -> HttpResponse:
    return render(request, "messaging/compose.html", {
        "form": form, "kind": kind, "record": record, "record_label": _record_label(kind, record),
        "record_url": reverse(DETAIL_PAGES[kind], args=[record.pk]),
        "nav": {"lead": "leads", "contact": "contacts", "deal": "deals"}[kind],
    })  # fmt: skip


@login_required
def compose(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """The compose form; sending queues the email and puts it on the records' timelines."""
    record = _record_or_404(request, kind, pk)
    templates = email_template_list(active_only=True)
    form = ComposeForm(
        request.POST or None,
        request.FILES or None,
        templates=templates,
        initial={"to": _recipient(kind, record)},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        template = email_template_get(pk=data["template"]) if data["template"] else None
        try:
            message = email_compose_send(
                actor=request.user, to=data["to"], cc=data["cc"], bcc=data["bcc"],
                subject=data["subject"], text_body=data["text_body"],
                html_body=data["html_body"], attachments=form.attachment_inputs(),
                template=template, add_signature=data["add_signature"],
                base_url=request.build_absolute_uri("/"), **{kind: record},
            )  # fmt: skip
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, f"Email “{message.subject}” is in the outbox.")
            return redirect(DETAIL_PAGES[kind], pk=record.pk)
    if request.method == "POST" and request.FILES and form.errors:
        form.add_error(None, "Attach the files again: a browser does not keep them after an error.")
    return _page(request, kind, record, form)


@login_required
@require_POST
def compose_fill(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Subject and bodies of the chosen template, rendered for this record (htmx fragment)."""
    record = _record_or_404(request, kind, pk)
    current: dict[str, Any] = {name: request.POST.get(name, "") for name in BODY_FIELDS}
    current["add_signature"] = request.POST.get("add_signature") == "on"
    error = ""
    template_id = request.POST.get("template", "")
    template = (
        email_template_get(pk=int(template_id), active_only=True) if template_id.isdigit() else None
    )
    if template is not None:
        ctx = merge_context_for(
            sender=request.user, base_url=request.build_absolute_uri("/"), **{kind: record}
        )
        try:
            rendered = merge_render_email(
                ctx,
                subject=template.subject,
                text_body=template.text_body,
                html_body=template.html_body,
            )
        except DomainError as exc:
            error = f"The template “{template.name}” cannot be used for this record. {exc.message}"
        else:
            current = {
                "subject": rendered.subject,
                "text_body": rendered.text_body or html_to_text(rendered.html_body),
                "html_body": rendered.html_body,
                "add_signature": not template_uses_signature(template),
            }
    form = ComposeForm(initial=current, templates=())
    return render(
        request, "messaging/compose.html#body", {"form": form, "fill_error": error, "kind": kind}
    )
