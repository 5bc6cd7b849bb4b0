"""Proposals over the API: list, start, read (lines and totals), change, send, and the PDF.

A proposal is seen by whoever may see its deal; any other answers 404 like a missing one. The
totals are the ones proposals/pricing.py computes for the page and the PDF, never recomputed
here. A change carries the `version` it was based on (`expected_version`): a stale one answers
409. Sending is the page's: the next version is frozen with its PDF and the email goes through
the outbox; a discount beyond the sender's limits without a manager's approval answers 400 with
the reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from closeloop.core.exceptions import DomainError
from closeloop.pipeline.selectors import deal_get
from closeloop.proposals.choices import Billing, DiscountKind, PaymentTermsKind, ProposalStatus
from closeloop.proposals.models import LineItem, Product, Proposal, ProposalTemplate
from closeloop.proposals.pricing import ProposalTotals, proposal_totals
from closeloop.proposals.selectors import (
    ProposalFilters,
    proposal_get,
    proposal_list,
    proposal_search,
    template_list,
)
from closeloop.proposals.services import (
    LineIn,
    proposal_create,
    proposal_edit,
    proposal_lines_set,
    proposal_send,
    proposal_update,
)
from closeloop.proposals.services.lines import line_json
from closeloop.proposals.version_files import version_pdf_response

from .errors import ERRORS, WRITE_ERRORS, field_error, not_found
from .ids import PathId, RecordId
from .lists import ListQuery, Page, page_of

router = Router(tags=["proposals"])

PROPOSAL_ORDERINGS = ("created_at", "updated_at", "title")

Quantity = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=4)]
Amount = Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=4)]
TaxRate = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]
Days = Annotated[int, Field(ge=0, le=3650)]
Text = Annotated[str, Field(max_length=50_000)]


class LineInput(Schema):
    """A product line (name, unit, price, tax and billing default to the product's) or a free
    text line (a name is needed)."""

    product_id: RecordId | None = None
    name: str = Field("", max_length=200)
    description: str = Field("", max_length=10_000)
    quantity: Quantity = Decimal(1)
    unit: str = Field("", max_length=30)
    unit_price: Amount | None = Field(None, description="defaults to the product's")
    discount_kind: DiscountKind = DiscountKind.PERCENT
    discount_value: Amount = Decimal(0)
    tax_rate: TaxRate | None = Field(None, description="defaults to the product's, else 0")
    billing: Billing | None = Field(None, description="defaults to the product's, else one-off")


class InstalmentInput(Schema):
    label: str = Field("", max_length=200)
    percent: Decimal = Field(..., gt=0, le=100, max_digits=5, decimal_places=2)
    due: str = Field(
        "acceptance", max_length=200, description="`acceptance`, a date or a milestone's label"
    )


class MilestoneInput(Schema):
    label: str = Field(..., max_length=200)
    date: dt.date | None = None
    offset_days: Days | None = Field(None, description="days after acceptance")


class TermsPatch(Schema):
    intro: Text | None = None
    closing: Text | None = None
    payment_terms: PaymentTermsKind | None = None
    net_days: Days | None = None
    instalments: list[InstalmentInput] | None = Field(None, max_length=50)
    delivery: list[MilestoneInput] | None = Field(None, max_length=50)
    validity_days: Days | None = None
    terms_conditions: Text | None = None


class ProposalIn(Schema):
    deal_id: RecordId
    title: str = Field("", max_length=200, description="defaults to “Proposal for <deal>”")
    template_id: RecordId | None = Field(None, description="start from this template…")
    based_on_id: RecordId | None = Field(None, description="…or as a copy of this proposal")
    lines: list[LineInput] | None = Field(
        None, max_length=500, description="replace the template's or copied lines"
    )


class ProposalPatch(TermsPatch):
    """Only the fields sent change; `lines`, when sent, replace all the lines."""

    expected_version: int = Field(
        ..., ge=1, le=2**31 - 1, description="the `version` you read; a stale one answers 409"
    )
    title: str | None = Field(None, min_length=1, max_length=200)
    lines: list[LineInput] | None = Field(None, max_length=500)


class SendIn(Schema):
    to: str = Field("", max_length=320, description="empty: the deal's contact")
    message: str = Field("", max_length=10_000, description="goes into the email")
    note: str = Field("", max_length=10_000, description="for your team, kept with the version")


class LineOut(Schema):
    position: int
    product_id: int | None
    name: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount_kind: str
    discount_value: Decimal
    tax_rate: Decimal
    billing: str
    amount: Decimal = Field(..., description="quantity × unit price, rounded")
    discount: Decimal
    net: Decimal


class TaxOut(Schema):
    rate: Decimal
    tax: Decimal


class BillingTotalOut(Schema):
    billing: str
    subtotal: Decimal
    discount: Decimal
    net: Decimal
    taxes: list[TaxOut]
    tax: Decimal
    total: Decimal


class TotalsOut(Schema):
    currency: str
    subtotal: Decimal
    discount: Decimal
    by_billing: list[BillingTotalOut] = Field(
        ..., description="one-off, monthly and yearly lines are totalled apart"
    )


class ProposalOut(Schema):
    id: int
    deal_id: int
    title: str
    currency: str
    status: str
    approval: str = Field(..., description="discount approval: '', pending, approved, …")
    template_id: int | None
    based_on_id: int | None
    version: int = Field(..., description="send it back as `expected_version` when changing")
    sent_versions: int
    intro: str
    closing: str
    payment_terms: str
    net_days: int
    instalments: list[dict[str, Any]]
    delivery: list[dict[str, Any]]
    validity_days: int
    terms_conditions: str
    lines: list[LineOut]
    totals: TotalsOut
    created_by_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class SentOut(Schema):
    number: int = Field(..., description="the version sent")
    valid_until: dt.date | None
    created_at: dt.datetime
    note: str
    proposal: ProposalOut


class ProposalListQuery(ListQuery):
    deal_id: RecordId | None = None
    status: ProposalStatus | None = None
    owner_id: RecordId | None = Field(None, description="the deal's owner")
    created_from: dt.date | None = None
    created_to: dt.date | None = None


def _totals_out(totals: ProposalTotals) -> dict[str, Any]:
    return {
        "currency": totals.currency,
        "subtotal": totals.subtotal,
        "discount": totals.discount,
        "by_billing": [
            {
                "billing": group.billing,
                "subtotal": group.subtotal,
                "discount": group.discount,
                "net": group.net,
                "taxes": [{"rate": r, "tax": t} for r, t in group.tax_by_rate.items()],
                "tax": group.tax,
                "total": group.total,
            }
            for group in totals.by_billing
        ],
    }


def _out(proposal: Proposal) -> dict[str, Any]:
    """The proposal with its lines and the totals pricing.py gives them."""
    lines: list[LineItem] = list(proposal.lines.all())
    totals = proposal_totals(lines, proposal.currency)
    computed = {"lines", "totals", "sent_versions"}
    fields = {
        name: getattr(proposal, name) for name in ProposalOut.model_fields if name not in computed
    }
    fields.update(
        {
            "deal_id": proposal.deal_id,
            "template_id": proposal.template_id,
            "based_on_id": proposal.based_on_id,
            "created_by_id": proposal.created_by_id,
            "sent_versions": proposal.version_count,
            "lines": [
                {
                    **line_json(line),
                    "amount": total.amount,
                    "discount": total.discount,
                    "net": total.net,
                }
                for line, total in zip(lines, totals.lines, strict=True)
            ],
            "totals": _totals_out(totals),
        }
    )
    return fields


def _visible(request: HttpRequest, proposal_id: int) -> Proposal:
    proposal = proposal_get(user=request.user, pk=proposal_id)
    if proposal is None:
        raise not_found("proposal")
    return proposal


def _lines(lines: Sequence[LineInput]) -> list[LineIn]:
    """The lines for the services; a product must exist (any the catalogue has, as the page)."""
    products = Product.objects.in_bulk({line.product_id for line in lines if line.product_id})
    built = []
    for position, line in enumerate(lines, start=1):
        product = None
        if line.product_id is not None:
            product = products.get(line.product_id)
            if product is None:
                raise DomainError(
                    f"Line {position}: there is no product {line.product_id}.", field="lines"
                )
        built.append(
            LineIn(
                name=line.name,
                product=product,
                description=line.description,
                quantity=line.quantity,
                unit=line.unit,
                unit_price=line.unit_price,
                discount_kind=line.discount_kind,
                discount_value=line.discount_value,
                tax_rate=line.tax_rate,
                billing=line.billing or "",
            )
        )
    return built


def _terms(sent: dict[str, Any]) -> dict[str, Any]:
    """Instalments and milestones as the services read them (decimals and dates as text)."""
    terms = dict(sent)
    if terms.get("instalments") is not None:
        terms["instalments"] = [
            {**row, "percent": str(row["percent"])} for row in terms["instalments"]
        ]
    if terms.get("delivery") is not None:
        terms["delivery"] = [
            {"label": row["label"], "date": row["date"].isoformat()}
            if row.get("date")
            else {"label": row["label"], "offset_days": row.get("offset_days")}
            for row in terms["delivery"]
        ]
    return terms


@router.get("", response={200: Page[ProposalOut], **ERRORS}, summary="List proposals")
def list_proposals(request: HttpRequest, query: Query[ProposalListQuery]) -> Any:
    """The proposals of the deals the token's user may see, newest first, with their totals."""
    filters = ProposalFilters(
        deal_id=query.deal_id,
        status=query.status or "",
        owner_id=query.owner_id,
        created_from=query.created_from,
        created_to=query.created_to,
    )
    page = page_of(
        proposal_search(user=request.user, filters=filters),
        query,
        orderings=PROPOSAL_ORDERINGS,
        default="-created_at",
    )
    page["items"] = [_out(proposal) for proposal in page["items"]]
    return page


@router.post("", response={201: ProposalOut, **WRITE_ERRORS}, summary="Start a proposal")
def create_proposal(request: HttpRequest, payload: ProposalIn) -> Status[Any]:
    """Start a proposal on an open deal the token's user may see: from a template (its texts,
    terms, materials and default lines at today's prices), as a copy of an earlier proposal, or
    blank. `lines`, when sent, replace the lines it would start with."""
    deal = deal_get(user=request.user, pk=payload.deal_id)
    if deal is None:
        raise field_error("deal_id", "No such deal, or you may not see it.")
    template: ProposalTemplate | None = None
    based_on: Proposal | None = None
    if payload.template_id is not None:
        template = template_list().filter(pk=payload.template_id).first()
        if template is None:
            raise field_error("template_id", "No such active template.")
    if payload.based_on_id is not None:
        based_on = proposal_list(user=request.user).filter(pk=payload.based_on_id).first()
        if based_on is None:
            raise field_error("based_on_id", "No such proposal, or you may not see it.")
    # one request, one proposal: a refused line leaves no half-made proposal behind
    with transaction.atomic():
        proposal = proposal_create(
            actor=request.user,
            deal=deal,
            title=payload.title,
            template=template,
            based_on=based_on,
        )
        if payload.lines is not None:
            proposal_lines_set(actor=request.user, proposal=proposal, lines=_lines(payload.lines))
    return Status(201, _out(_visible(request, proposal.pk)))


@router.get("/{proposal_id}", response={200: ProposalOut, **ERRORS}, summary="Read a proposal")
def read_proposal(request: HttpRequest, proposal_id: PathId) -> Any:
    """One proposal with its lines and totals; one whose deal the user may not see answers 404."""
    return _out(_visible(request, proposal_id))


@router.patch(
    "/{proposal_id}", response={200: ProposalOut, **WRITE_ERRORS}, summary="Change a proposal"
)
def update_proposal(request: HttpRequest, proposal_id: PathId, payload: ProposalPatch) -> Any:
    """Change the title, texts, terms or (all of) the lines, as the proposal page saves them:
    all or nothing. A stale `expected_version` answers 409; an accepted or declined proposal is
    closed (400). A change after a discount approval needs approving again."""
    proposal = _visible(request, proposal_id)
    sent = payload.dict(exclude_unset=True, exclude={"expected_version", "lines"})
    changes = _terms({k: v for k, v in sent.items() if v is not None})
    if payload.lines is not None:
        proposal_edit(
            actor=request.user,
            proposal=proposal,
            expected_version=payload.expected_version,
            lines=_lines(payload.lines),
            **changes,
        )
    else:
        proposal_update(
            actor=request.user,
            proposal=proposal,
            expected_version=payload.expected_version,
            **changes,
        )
    return _out(_visible(request, proposal_id))


@router.post(
    "/{proposal_id}/send", response={201: SentOut, **WRITE_ERRORS}, summary="Send a proposal"
)
def send_proposal(request: HttpRequest, proposal_id: PathId, payload: SendIn) -> Status[Any]:
    """Send the proposal as it stands, as its page does: the next version is frozen with its
    PDF, the deal's contact (or `to`) is emailed the link and the PDF through the outbox, and
    the deal moves to the proposal (or negotiation) stage. Refused (400, with the reason) while
    its discounts go beyond the sender's limits without a manager's approval, once the customer
    has accepted or declined, or with nobody to send it to."""
    proposal = _visible(request, proposal_id)
    version = proposal_send(
        actor=request.user,
        proposal=proposal,
        note=payload.note,
        to=payload.to,
        message=payload.message,
    )
    return Status(
        201,
        {
            "number": version.number,
            "valid_until": version.valid_until,
            "created_at": version.created_at,
            "note": version.note,
            "proposal": _out(_visible(request, proposal_id)),
        },
    )


@router.get(
    "/{proposal_id}/pdf",
    response={200: None, **ERRORS},
    summary="Download the sent PDF",
    openapi_extra={
        "responses": {
            200: {
                "description": "the PDF",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def proposal_pdf(request: HttpRequest, proposal_id: PathId) -> HttpResponse:
    """The PDF the customer got with the latest version sent; a proposal never sent has none
    (404)."""
    proposal = _visible(request, proposal_id)
    version = proposal.versions.order_by("-number").first()
    if version is None:
        raise not_found("sent version")
    version.proposal = proposal
    return version_pdf_response(version)
