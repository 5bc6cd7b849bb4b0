"""Pages of segments and mailings (admins and managers), the consent form, and the public
unsubscribe page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from closeloop.accounts.choices import Role
from closeloop.core.exceptions import DomainError
from closeloop.core.ratelimit import RateLimited, client_ip, rate_limit_enforce
from closeloop.messaging.consent import marketing_consent_set
from closeloop.people.models import Contact

from .mailings import coupon_value_words, mailing_cancel, mailing_create, mailing_start
from .mailings_forms import ConsentForm, MailingForm, SegmentForm
from .mailings_selectors import (
    ATTRIBUTION_DAYS,
    mailing_list,
    mailing_recipients,
    mailing_results,
    segment_list,
)
from .models import Mailing, Segment
from .segments import segment_contacts, segment_create, segment_describe, segment_update
from .unsubscribe import unsubscribe_by_token, unsubscribe_target

PREVIEW = 50


def _marketer(request: HttpRequest) -> None:
    if getattr(request.user, "role", None) not in (Role.ADMIN, Role.MANAGER):
        raise PermissionDenied("Only admins and managers work with segments and mailings.")


@login_required
def segments(request: HttpRequest) -> HttpResponse:
    _marketer(request)
    form = SegmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            segment = segment_create(
                actor=request.user, name=form.cleaned_data["name"], criteria=form.criteria()
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            return redirect("aftersales:segment_detail", pk=segment.pk)
    return render(
        request,
        "aftersales/mailings/segments.html",
        {"segments": segment_list(), "form": form, "nav": "mailings"},
    )


@login_required
def segment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _marketer(request)
    segment = get_object_or_404(Segment, pk=pk)
    form = SegmentForm.for_segment(segment, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            segment_update(
                actor=request.user,
                segment=segment,
                name=form.cleaned_data["name"],
                criteria=form.criteria(),
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, "Segment saved.")
            return redirect("aftersales:segment_detail", pk=segment.pk)
    contacts = segment_contacts(segment, user=request.user).select_related("organization")
    return render(
        request,
        "aftersales/mailings/segment_detail.html",
        {
            "segment": segment,
            "criteria": segment_describe(segment.criteria),
            "count": contacts.count(),
            "preview": contacts[:PREVIEW],
            "preview_size": PREVIEW,
            "form": form,
            "nav": "mailings",
        },
    )


@login_required
def mailings(request: HttpRequest) -> HttpResponse:
    _marketer(request)
    form = MailingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            mailing = mailing_create(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_domain_error(error)
        else:
            return redirect("aftersales:mailing_detail", pk=mailing.pk)
    return render(
        request,
        "aftersales/mailings/mailings.html",
        {"mailings": mailing_list(), "form": form, "nav": "mailings"},
    )


@login_required
def mailing_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _marketer(request)
    mailing = get_object_or_404(mailing_list(), pk=pk)
    page = Paginator(mailing_recipients(mailing), 100).get_page(request.GET.get("page"))
    return render(
        request,
        "aftersales/mailings/mailing_detail.html",
        {
            "mailing": mailing,
            "results": mailing_results(mailing),
            "coupon": coupon_value_words(mailing),
            "page": page,
            "attribution_days": ATTRIBUTION_DAYS,
            "nav": "mailings",
        },
    )


@login_required
@require_POST
def mailing_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    _marketer(request)
    mailing = get_object_or_404(Mailing, pk=pk)
    service = {"start": mailing_start, "cancel": mailing_cancel}.get(action)
    if service is None:
        raise PermissionDenied
    try:
        service(actor=request.user, mailing=mailing)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, "Sending has started." if action == "start" else "The mailing is cancelled."
        )
    return redirect("aftersales:mailing_detail", pk=mailing.pk)


@login_required
@require_POST
def contact_consent(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(Contact.objects.visible_to(request.user), pk=pk)
    form = ConsentForm(request.POST)
    if form.is_valid():
        try:
            marketing_consent_set(
                actor=request.user,
                contact=contact,
                granted=form.cleaned_data["granted"],
                source=form.cleaned_data["source"],
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Marketing consent recorded.")
    else:
        messages.error(request, "Choose given or withdrawn and say how.")
    return redirect("people:contact_detail", pk=contact.pk)


def _public(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    return render(request, f"aftersales/mailings/{template}", context, status=status)


@csrf_exempt  # mail programs post the one-click unsubscribe; the signed token is the proof
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        # counted before and outside the unsubscribe's transaction, so refused tries count too
        rate_limit_enforce(
            key=f"unsubscribe:ip:{client_ip(request)}",
            limit=int(getattr(settings, "UNSUBSCRIBE_RATE_PER_IP", 30)),
            message="Too many requests from your network. Please wait a minute and try again.",
        )
    except RateLimited as limited:
        response = _public(request, "unsubscribe_error.html", {"message": limited.message}, 429)
        response["Retry-After"] = str(limited.retry_after)
        return response
    target = unsubscribe_target(token)
    if target is None:
        message = (
            "This unsubscribe link is not valid: it may have been cut off or changed. "
            "Open the link from the email again, or reply to the email and ask us to stop."
        )
        return _public(request, "unsubscribe_error.html", {"message": message}, 400)
    if request.method == "POST":
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        source = "one-click unsubscribe (mail program)" if one_click else "unsubscribe link"
        unsubscribe_by_token(target=target, source=source)
        return _public(request, "unsubscribe_done.html", {"email": target.email})
    return _public(request, "unsubscribe.html", {"email": target.email})
