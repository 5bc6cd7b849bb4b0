"""Settings → Email templates (admins): list, create, edit, delete, and a preview on a record."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from closeloop.accounts.views import admin_required
from closeloop.core.exceptions import DomainError
from closeloop.core.http import found_or_404

from . import template_services as services
from .compose_forms import EmailTemplateForm
from .html_mail import html_inline_css, html_to_text
from .merge import MERGE_FIELDS, merge_context_for, merge_render_email
from .models import EmailTemplate
from .template_selectors import (
    email_record_from_choice,
    email_template_list,
    preview_record_choices,
)


def _page(request: HttpRequest, form: EmailTemplateForm, template: Any = None) -> HttpResponse:
    return render(request, "settings/email_template_form.html", {
        "nav": "settings", "section": "email_templates", "form": form, "template": template,
        "fields": MERGE_FIELDS.values(), "records": preview_record_choices(user=request.user),
    })  # fmt: skip


def _save_error(form: EmailTemplateForm, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


@admin_required
@require_GET
def email_templates(request: HttpRequest) -> HttpResponse:
    """Every template, with how many emails were sent from it."""
    templates = email_template_list().annotate(message_count=Count("messages"))
    return render(request, "settings/email_templates.html", {
        "nav": "settings", "section": "email_templates", "templates": templates,
        "fields": MERGE_FIELDS.values(),
    })  # fmt: skip


@admin_required
def email_template_create(request: HttpRequest) -> HttpResponse:
    form = EmailTemplateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            template = services.email_template_create(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            _save_error(form, error)
        else:
            messages.success(request, f"Template “{template.name}” saved.")
            return redirect("settings:email_template_edit", pk=template.pk)
    return _page(request, form)


@admin_required
def email_template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    template = found_or_404(EmailTemplate.objects.filter(pk=pk).first())
    initial = {
        "name": template.name,
        "subject": template.subject,
        "text_body": template.text_body,
        "html_body": template.html_body,
        "is_active": template.is_active,
    }
    form = EmailTemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.email_template_update(
                actor=request.user, template=template, **form.cleaned_data
            )
        except DomainError as error:
            _save_error(form, error)
        else:
            messages.success(request, f"Template “{template.name}” saved.")
            return redirect("settings:email_template_edit", pk=template.pk)
    return _page(request, form, template)


@admin_required
@require_POST
def email_template_delete(request: HttpRequest, pk: int) -> HttpResponse:
    template = found_or_404(EmailTemplate.objects.filter(pk=pk).first())
    services.email_template_delete(actor=request.user, template=template)
    messages.success(request, f"Template “{template.name}” deleted.")
    return redirect("settings:email_templates")


@admin_required
@require_POST
def email_template_preview(request: HttpRequest) -> HttpResponse:
    """The form's current subject and bodies rendered for a record the admin picked (htmx)."""
    context: dict[str, Any] = {}
    kind, record = email_record_from_choice(user=request.user, value=request.POST.get("record", ""))
    if record is None:
        context["error"] = "Choose a lead, contact or deal to preview the template on."
    else:
        ctx = merge_context_for(
            sender=request.user, base_url=request.build_absolute_uri("/"), **{kind: record}
        )
        try:
            rendered = merge_render_email(
                ctx,
                subject=request.POST.get("subject", ""),
                text_body=request.POST.get("text_body", ""),
                html_body=request.POST.get("html_body", ""),
            )
        except DomainError as error:
            context["error"] = error.message
        else:
            html = html_inline_css(rendered.html_body) if rendered.html_body.strip() else ""
            context.update(
                subject=rendered.subject,
                html=html,
                text=rendered.text_body.strip() or html_to_text(html),
                text_generated=not rendered.text_body.strip(),
                record=record,
            )
    return render(request, "settings/_email_template_preview.html", context)
