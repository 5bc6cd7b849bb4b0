"""Settings → Products, Proposal templates and Discount limits.

Everyone signed in may read the catalogue and the templates; admins and managers change them,
admins set the discount limits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from closeloop.accounts.choices import Role
from closeloop.accounts.views import admin_required
from closeloop.core.exceptions import DomainError
from closeloop.core.http import found_or_404
from closeloop.messaging.merge import MERGE_FIELDS
from closeloop.pipeline.settings_views import setup_role_required

from . import services
from .choices import Billing, DiscountKind
from .forms import (
    BrandingForm,
    DiscountLimitsForm,
    ProductForm,
    RowsPosted,
    TemplateForm,
    lines_in,
    product_ids,
)
from .models import DiscountLimit, Material, Product, Proposal, ProposalTemplate
from .selectors import product_list, product_search, template_list
from .services.branding import logo_data_uri

PAGE_SIZE = 50


def _may_edit(user: Any) -> bool:
    return bool(user.is_admin or user.is_manager)


def uploads_of(request: HttpRequest) -> list[tuple[str, Any]]:
    """The files of a multiple upload input named `files`."""
    return [(f.name or "", f) for f in request.FILES.getlist("files")]


@login_required
@require_GET
def products(request: HttpRequest) -> HttpResponse:
    """The catalogue: search by name, SKU or description; active, inactive or all."""
    query = request.GET.get("q", "").strip()
    active = request.GET.get("active", "active")
    page_obj = Paginator(product_search(query=query, active=active), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "proposals/products.html", {
        "nav": "settings", "section": "products", "page_obj": page_obj, "query": query,
        "active": active, "may_edit": _may_edit(request.user),
    })  # fmt: skip


@setup_role_required
def product_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Add a product (no `pk`) or change one; the service's refusal shows on its field."""
    product = found_or_404(Product.objects.filter(pk=pk).first()) if pk else None
    initial = {name: getattr(product, name) for name in ProductForm.base_fields} if product else {}
    form = ProductForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if product is None:
                services.product_create(actor=request.user, **form.cleaned_data)
            else:
                services.product_update(actor=request.user, product=product, **form.cleaned_data)
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, f"Product “{form.cleaned_data['name']}” saved.")
            return redirect("proposals:products")
    return render(request, "proposals/product_form.html", {
        "nav": "settings", "section": "products", "form": form, "product": product,
    })  # fmt: skip


@setup_role_required
@require_POST
def product_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivate a product (no longer offered; proposals keep their lines) or offer it again."""
    product = found_or_404(Product.objects.filter(pk=pk).first())
    active = request.POST.get("is_active") == "true"
    services.product_update(actor=request.user, product=product, is_active=active)
    state = "offered again" if active else "deactivated: it is no longer offered"
    messages.success(request, f"“{product.name}” {state}.")
    return redirect("proposals:products")


@login_required
@require_GET
def templates(request: HttpRequest) -> HttpResponse:
    """Every template with its number of default lines and materials."""
    rows = template_list(active_only=False).annotate(
        line_count=Count("lines", distinct=True), material_count=Count("materials", distinct=True)
    )
    return render(request, "proposals/templates.html", {
        "nav": "settings", "section": "proposal_templates", "templates": rows,
        "may_edit": _may_edit(request.user),
    })  # fmt: skip


def editor_context(rows: RowsPosted, currency: str) -> dict[str, Any]:
    """What the shared line and terms editors need: the rows and the products to pick from
    (the active ones in this currency, and any already on a line)."""
    offered = product_list(currency=currency) | Product.objects.filter(
        pk__in=product_ids(rows.lines)
    )
    return {
        "rows": rows,
        "products": list(offered.distinct().order_by("name", "pk")),
        "currency": currency,
        "billings": Billing.choices,
        "discount_kinds": DiscountKind.choices,
        "max_bytes": settings.PROPOSAL_MATERIAL_MAX_BYTES,
    }


def products_by_pk(rows: RowsPosted) -> dict[int, Product]:
    return Product.objects.in_bulk(product_ids(rows.lines))


def _template_page(
    request: HttpRequest,
    form: TemplateForm,
    rows: RowsPosted,
    template: ProposalTemplate | None,
    row_errors: dict[str, str] | None = None,
) -> HttpResponse:
    currency = form["currency"].value() or "EUR"
    return render(request, "proposals/template_form.html", {
        "nav": "settings", "section": "proposal_templates", "form": form, "template": template,
        "fields": MERGE_FIELDS.values(), "row_errors": row_errors or {},
        "materials": list(template.materials.all()) if template else [],
        "may_edit": _may_edit(request.user), **editor_context(rows, str(currency)),
    })  # fmt: skip


def _template_save(
    request: HttpRequest, form: TemplateForm, template: ProposalTemplate | None
) -> tuple[ProposalTemplate | None, RowsPosted, dict[str, str]]:
    rows = RowsPosted.from_post(request.POST)
    if not form.is_valid():
        return None, rows, {}
    data = form.cleaned_data
    try:
        saved = services.template_save(
            actor=request.user,
            template=template,
            lines=lines_in(rows.lines, products_by_pk(rows)),
            **data,
            **rows.terms(data["payment_terms"]),
        )
    except DomainError as error:
        return None, rows, form.domain_error(error)
    return saved, rows, {}


@setup_role_required
def template_create(request: HttpRequest) -> HttpResponse:
    form = TemplateForm(request.POST or None)
    rows = RowsPosted([], [], [])
    row_errors: dict[str, str] = {}
    if request.method == "POST":
        saved, rows, row_errors = _template_save(request, form, None)
        if saved is not None:
            messages.success(request, f"Template “{saved.name}” saved.")
            return redirect("proposals:template_edit", pk=saved.pk)
    return _template_page(request, form, rows, None, row_errors)


@login_required
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The template (read-only for reps; admins and managers save it)."""
    template = found_or_404(ProposalTemplate.objects.filter(pk=pk).first())
    if request.method == "POST":
        return _template_update(request, template)
    form = TemplateForm(initial={"name": template.name, "currency": template.currency,
                                 "is_active": template.is_active})  # fmt: skip
    form.terms_initial(template)
    rows = RowsPosted.from_stored(template, template.lines.all())
    return _template_page(request, form, rows, template)


@setup_role_required
def _template_update(request: HttpRequest, template: ProposalTemplate) -> HttpResponse:
    form = TemplateForm(request.POST)
    saved, rows, row_errors = _template_save(request, form, template)
    if saved is not None:
        messages.success(request, f"Template “{saved.name}” saved.")
        return redirect("proposals:template_edit", pk=saved.pk)
    return _template_page(request, form, rows, template, row_errors)


@setup_role_required
@require_POST
def template_materials(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload files to a template (several at once), or take one off (`remove`)."""
    template = found_or_404(ProposalTemplate.objects.filter(pk=pk).first())
    materials_change(
        request,
        template,
        add=lambda uploads: services.template_materials_add(
            actor=request.user, template=template, uploads=uploads
        ),
        remove=lambda material: services.template_material_remove(
            actor=request.user, template=template, material=material
        ),
    )
    return redirect("proposals:template_edit", pk=template.pk)


def materials_change(
    request: HttpRequest,
    owner: ProposalTemplate | Proposal,
    *,
    add: Callable[[list[tuple[str, Any]]], list[Material]],
    remove: Callable[[Material], None],
) -> None:
    """Upload the posted files to a template or proposal, or take one off (`remove`), and say
    what happened."""
    kind = "template" if isinstance(owner, ProposalTemplate) else "proposal"
    try:
        if "remove" in request.POST:
            pk = request.POST["remove"]
            material = found_or_404(owner.materials.filter(pk=pk).first() if pk.isdigit() else None)
            remove(material)
            messages.success(request, f"“{material.filename}” removed from the {kind}.")
        else:
            added = add(uploads_of(request))
            messages.success(request, f"{len(added)} file(s) attached to the {kind}.")
    except DomainError as error:
        messages.error(request, error.message)


@admin_required
def discount_limits(request: HttpRequest) -> HttpResponse:
    """The largest discount each role may give without a manager's approval."""
    current = dict(DiscountLimit.objects.values_list("role", "max_percent"))
    form = DiscountLimitsForm(request.POST or None, initial=current)
    if request.method == "POST" and form.is_valid():
        try:
            for role in Role.values:
                services.discount_limit_set(
                    actor=request.user, role=role, max_percent=form.cleaned_data[role]
                )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, "Discount limits saved.")
            return redirect("proposals:discount_limits")
    return render(request, "proposals/discount_limits.html", {
        "nav": "settings", "section": "discount_limits", "form": form,
    })  # fmt: skip


@admin_required
def branding(request: HttpRequest) -> HttpResponse:
    """The logo and company details every proposal shows."""
    current = services.branding_get()
    form = BrandingForm(
        request.POST or None,
        request.FILES or None,
        initial={"company_details": current.company_details},
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["logo"]
        try:
            services.branding_update(
                actor=request.user,
                company_details=form.cleaned_data["company_details"],
                logo_content=upload.read(services.LOGO_MAX_BYTES + 1) if upload else None,
                remove_logo=form.cleaned_data["remove_logo"],
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, "Company details saved.")
            return redirect("proposals:branding")
    logo_src = logo_data_uri(current.logo.name if current.logo else "", current.logo_type)
    return render(request, "proposals/branding.html", {
        "nav": "settings", "section": "branding", "form": form, "logo_src": logo_src,
    })  # fmt: skip
