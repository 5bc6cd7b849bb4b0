"""The customer pages: who has bought, and one customer's purchases, plans, scores and coupons."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from closeloop.core.http import found_or_404
from closeloop.core.money import base_currency

from .customer_selectors import (
    customer_contact_get,
    customer_contacts,
    customer_organization_get,
    customer_organizations,
    customer_page,
)
from .referrals import referral_url

PER_PAGE = 50


@login_required
@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    """Organizations and contacts with a won deal the user may see, most recent buyers first."""
    q = request.GET.get("q", "").strip()[:100]
    organizations = Paginator(customer_organizations(user=request.user, q=q), PER_PAGE)
    contacts = Paginator(customer_contacts(user=request.user, q=q), PER_PAGE)
    context = {
        "nav": "customers",
        "q": q,
        "organizations": organizations.get_page(request.GET.get("page")),
        "contacts": contacts.get_page(request.GET.get("cpage")),
        "currency": base_currency(),
    }
    return render(request, "aftersales/customers/list.html", context)


def _detail(request: HttpRequest, customer: Any, page: Any, **extra: Any) -> HttpResponse:
    context = {
        "nav": "customers",
        "customer": customer,
        "page": page,
        "currency": base_currency(),
        **extra,
    }
    return render(request, "aftersales/customers/detail.html", context)


@login_required
@require_GET
def customer_organization(request: HttpRequest, pk: int) -> HttpResponse:
    """One organization's after-sale page; 404 when the user may not see it."""
    organization = found_or_404(customer_organization_get(user=request.user, pk=pk))
    page = customer_page(user=request.user, organization=organization)
    links = [(contact, referral_url(contact)) for contact in page.contacts]
    return _detail(request, organization, page, kind="organization", referral_links=links)


@login_required
@require_GET
def customer_contact(request: HttpRequest, pk: int) -> HttpResponse:
    """One contact's after-sale page; 404 when the user may not see them."""
    contact = found_or_404(customer_contact_get(user=request.user, pk=pk))
    page = customer_page(user=request.user, contact=contact)
    links = [(contact, referral_url(contact))]
    return _detail(request, contact, page, kind="contact", referral_links=links)
