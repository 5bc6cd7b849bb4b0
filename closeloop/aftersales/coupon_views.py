"""Coupon pages: the list with filters and the report, issuing, withdrawing; and the coupon panel
on a contact's or organization's page (check and redeem a code, link a repeat deal)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from closeloop.core.exceptions import DomainError
from closeloop.core.http import found_or_404, query_int
from closeloop.people.models import Contact, Organization
from closeloop.people.selectors import contact_get, organization_get

from .choices import CouponOrigin
from .coupon_forms import (
    CouponIssueForm,
    CouponRedeemForm,
    CouponWithdrawForm,
    RedemptionDealForm,
)
from .coupon_selectors import (
    COUPON_STATUSES,
    CouponFilters,
    coupon_campaigns,
    coupon_get,
    coupon_list,
    coupon_redemptions,
    coupon_report,
    customer_coupons,
    customer_deals,
    redemption_get,
)
from .coupons import (
    CouponCheck,
    coupon_issue,
    coupon_redeem,
    coupon_redemption_link_deal,
    coupon_validate,
    coupon_withdraw,
)

PAGE_SIZE = 50
MAX_DEALS = 200  # the latest deals of a customer offered as the repeat deal


def _filters(request: HttpRequest) -> CouponFilters:
    return CouponFilters(
        status=request.GET.get("status", ""),
        origin=request.GET.get("origin", ""),
        contact_id=query_int(request.GET, "contact"),
        organization_id=query_int(request.GET, "organization"),
        campaign_id=query_int(request.GET, "campaign"),
        q=request.GET.get("q", "").strip()[:100],
    )


@login_required
@require_GET
def coupon_list_view(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    coupons = coupon_list(user=request.user, filters=filters)
    customer: Any = None
    if filters.contact_id:
        customer = contact_get(user=request.user, pk=filters.contact_id)
    elif filters.organization_id:
        customer = organization_get(user=request.user, pk=filters.organization_id)
    return render(request, "aftersales/coupons/list.html", {
        "page_obj": Paginator(coupons, PAGE_SIZE).get_page(request.GET.get("page")),
        "filters": filters, "customer": customer, "statuses": COUPON_STATUSES,
        "origins": CouponOrigin.choices, "campaigns": coupon_campaigns(),
        "report": coupon_report(user=request.user, filters=filters), "nav": "coupons",
    })  # fmt: skip


@login_required
def coupon_issue_view(request: HttpRequest) -> HttpResponse:
    initial: dict[str, Any] = {}
    if contact_id := query_int(request.GET, "contact"):
        initial["contact"] = contact_id
    if organization_id := query_int(request.GET, "organization"):
        initial["organization"] = organization_id
    form = CouponIssueForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        campaign_code = data["target"] == "campaign"
        try:
            coupon = coupon_issue(
                actor=request.user,
                kind=data["kind"],
                value=data["value"],
                currency=data["currency"],
                expires_at=form.expires_at(),
                valid_days=data["valid_days"],
                max_uses=data["max_uses"],
                max_uses_per_customer=data["max_uses_per_customer"],
                min_order=data["min_order"],
                contact=data["contact"],
                organization=data["organization"],
                origin=CouponOrigin.CAMPAIGN if campaign_code else CouponOrigin.MANUAL,
                campaign=data["campaign"],
                description=data["description"],
                code=data["code"] if campaign_code else "",
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, f"Coupon {coupon.code} issued.")
            return redirect("aftersales:coupon_detail", coupon.pk)
    return render(request, "aftersales/coupons/issue.html", {"form": form, "nav": "coupons"})


@login_required
@require_GET
def coupon_detail(request: HttpRequest, pk: int) -> HttpResponse:
    coupon = found_or_404(coupon_get(user=request.user, pk=pk))
    return render(request, "aftersales/coupons/detail.html", {
        "coupon": coupon, "redemptions": coupon_redemptions(user=request.user, coupon=coupon),
        "withdraw_form": CouponWithdrawForm(), "nav": "coupons",
    })  # fmt: skip


@login_required
@require_POST
def coupon_withdraw_view(request: HttpRequest, pk: int) -> HttpResponse:
    coupon = found_or_404(coupon_get(user=request.user, pk=pk))
    form = CouponWithdrawForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        coupon_withdraw(actor=request.user, coupon=coupon, reason=reason)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Coupon {coupon.code} withdrawn; it can no longer be used.")
    return redirect("aftersales:coupon_detail", coupon.pk)


# The panel on a customer's page ---------------------------------------------------------------


def _customer(
    request: HttpRequest, kind: str, pk: int
) -> tuple[Contact | None, Organization | None]:
    if kind == "contact":
        return found_or_404(contact_get(user=request.user, pk=pk)), None
    if kind == "organization":
        return None, found_or_404(organization_get(user=request.user, pk=pk))
    raise Http404("Not found")


def customer_panel_context(
    *,
    user: Any,
    contact: Contact | None = None,
    organization: Organization | None = None,
    form: CouponRedeemForm | None = None,
    check: CouponCheck | None = None,
    done: str = "",
) -> dict[str, Any]:
    """What `_customer_coupons_panel.html` shows for one contact or organization."""
    coupons, redemptions = customer_coupons(user=user, contact=contact, organization=organization)
    deals = list(
        customer_deals(user=user, contact=contact, organization=organization).only("pk", "title")[
            :MAX_DEALS
        ]
    )
    record: Any = contact or organization
    kind = "contact" if contact is not None else "organization"
    return {
        "coupon_customer": record,
        "coupon_customer_kind": kind,
        "customer_coupons": coupons,
        "customer_redemptions": redemptions,
        "redeem_form": form or CouponRedeemForm(deals=deals),
        "link_deals": deals,
        "coupon_check": check,
        "redeem_done": done,
    }


def _panel(request: HttpRequest, **context: Any) -> HttpResponse:
    return render(
        request,
        "aftersales/coupons/_customer_coupons_panel.html",
        customer_panel_context(user=request.user, **context),
    )


def _customer_url(contact: Contact | None, organization: Organization | None) -> str:
    if contact is not None:
        return reverse("people:contact_detail", args=[contact.pk])
    assert organization is not None
    return reverse("people:organization_detail", args=[organization.pk])


@login_required
@require_POST
def customer_coupon_check(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """What the typed code would take off this order, or why it cannot be used (htmx)."""
    contact, organization = _customer(request, kind, pk)
    code = request.POST.get("code", "").strip()
    check = None
    if code and request.POST.get("order_value", "").strip():
        check = coupon_validate(
            code=code,
            order_value=request.POST.get("order_value", ""),
            currency=request.POST.get("currency", ""),
            contact=contact,
            organization=organization,
        )
    return render(request, "aftersales/coupons/_check.html", {"coupon_check": check})


@login_required
@require_POST
def customer_coupon_redeem(request: HttpRequest, kind: str, pk: int) -> HttpResponseBase:
    contact, organization = _customer(request, kind, pk)
    deals = list(
        customer_deals(user=request.user, contact=contact, organization=organization)[:MAX_DEALS]
    )
    form = CouponRedeemForm(request.POST, deals=deals)
    done = ""
    if form.is_valid():
        data = form.cleaned_data
        try:
            redemption = coupon_redeem(
                actor=request.user,
                code=data["code"],
                order_value=data["order_value"],
                currency=data["currency"],
                contact=contact,
                organization=organization,
                deal=data["deal"],
                note=data["note"],
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else "code", error.message)
        else:
            done = (
                f"Coupon {redemption.coupon.code} redeemed: {redemption.discount} "
                f"{redemption.currency} off."
            )
            form = CouponRedeemForm(deals=deals)
    if getattr(request, "htmx", False):
        return _panel(request, contact=contact, organization=organization, form=form, done=done)
    if done:
        messages.success(request, done)
    else:
        errors = [str(e) for errs in form.errors.values() for e in errs]
        messages.error(request, "The coupon was not redeemed: " + " ".join(errors))
    return redirect(_customer_url(contact, organization))


@login_required
@require_POST
def redemption_link_deal(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Link a redemption to one of its customer's deals (or unlink it)."""
    redemption = found_or_404(redemption_get(user=request.user, pk=pk))
    contact = redemption.contact if redemption.contact_id else None
    organization = redemption.organization if contact is None else None
    deals = customer_deals(user=request.user, contact=contact, organization=organization)
    form = RedemptionDealForm(request.POST, deals=deals)
    if form.is_valid():
        try:
            coupon_redemption_link_deal(
                actor=request.user, redemption=redemption, deal=form.cleaned_data["deal"]
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "The redemption's repeat deal is saved.")
    else:
        messages.error(request, "Choose one of this customer's deals.")
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("aftersales:coupon_detail", redemption.coupon_id)
