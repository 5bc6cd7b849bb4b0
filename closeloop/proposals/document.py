"""The proposal document: a version snapshot turned into what the page and the PDF show.

Everything comes from the snapshot, never from live records, so a version's page and PDF
read the same on the day it was sent and years later. The draft preview builds a snapshot
on the fly (`draft_snapshot`) and goes through the same code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from closeloop.core.money import CURRENCY_SYMBOLS

from .choices import Billing, DiscountKind, PaymentTermsKind
from .models import Proposal, ProposalVersion
from .pricing import MINOR_UNITS, instalment_amounts, plain
from .services.branding import logo_data_uri

TEMPLATE = "proposals/document.html"


def doc_money(amount: Decimal | str, currency: str) -> str:
    """An amount as a proposal prints it: always with the currency's minor unit (€1,234.50)."""
    places = MINOR_UNITS.get(currency.upper(), 2)
    number = f"{Decimal(amount):,.{places}f}"
    symbol = CURRENCY_SYMBOLS.get(currency.upper())
    if symbol is None:
        return f"{number} {currency.upper()}"
    return f"-{symbol}{number[1:]}" if number.startswith("-") else f"{symbol}{number}"


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _line(line: dict[str, Any], currency: str) -> dict[str, Any]:
    if Decimal(line["discount_value"]) == 0:
        discount = ""
    elif line["discount_kind"] == DiscountKind.PERCENT:
        discount = f"{line['discount_value']} %"
    else:
        discount = doc_money(line["discount"], currency)
    return {
        "name": line["name"],
        "description": line["description"],
        "quantity": line["quantity"],
        "unit": line["unit"],
        "unit_price": doc_money(line["unit_price"], currency),
        "discount": discount,
        "tax_rate": f"{line['tax_rate']} %",
        "net": doc_money(line["net"], currency),
        "billing": Billing(line["billing"]).label,
    }


def _totals(totals: dict[str, Any], currency: str) -> list[dict[str, Any]]:
    groups = []
    for group in totals["by_billing"]:
        groups.append(
            {
                "billing": group["billing"],
                "label": Billing(group["billing"]).label,
                "subtotal": doc_money(group["subtotal"], currency),
                "discount": doc_money(group["discount"], currency)
                if Decimal(group["discount"])
                else "",
                "net": doc_money(group["net"], currency),
                "taxes": [
                    {"rate": plain(Decimal(rate)), "amount": doc_money(tax, currency)}
                    for rate, tax in group["tax_by_rate"].items()
                ],
                "total": doc_money(group["total"], currency),
            }
        )
    return groups


def _one_off_total(totals: dict[str, Any]) -> Decimal:
    for group in totals["by_billing"]:
        if group["billing"] == Billing.ONE_OFF:
            return Decimal(group["total"])
    return Decimal(0)


def _due(due: str) -> str:
    if due == "acceptance":
        return "on acceptance"
    try:
        return "on " + dt.date.fromisoformat(due).strftime("%d %b %Y")
    except ValueError:
        return f"at “{due}”"  # a delivery milestone's label


def _payment(snapshot: dict[str, Any], currency: str) -> dict[str, Any]:
    if snapshot["payment_terms"] != PaymentTermsKind.INSTALMENTS:
        return {"kind": PaymentTermsKind.NET, "net_days": snapshot["net_days"], "instalments": []}
    rows = snapshot["instalments"]
    amounts = instalment_amounts(
        _one_off_total(snapshot["totals"]), [Decimal(r["percent"]) for r in rows], currency
    )
    return {
        "kind": PaymentTermsKind.INSTALMENTS,
        "net_days": snapshot["net_days"],
        "instalments": [
            {
                "label": row["label"],
                "percent": row["percent"],
                "due": _due(row["due"]),
                "amount": doc_money(amount, currency),
            }
            for row, amount in zip(rows, amounts, strict=True)
        ],
    }


def _delivery(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        if row.get("date"):
            when = dt.date.fromisoformat(row["date"]).strftime("%d %b %Y")
        else:
            days = int(row["offset_days"])
            when = f"{days} day{'s' if days != 1 else ''} after acceptance"
        out.append({"label": row["label"], "when": when})
    return out


def _seller(seller: dict[str, Any]) -> dict[str, Any]:
    """The seller as frozen; versions from before the logo and details were kept have none."""
    return {
        **seller,
        "details": seller.get("details", ""),
        "logo_src": logo_data_uri(seller.get("logo", ""), seller.get("logo_type", "")),
    }


def document_context(
    snapshot: dict[str, Any],
    *,
    number: int | None = None,
    sent_at: dt.datetime | None = None,
    material_url: Callable[[int], str] | None = None,
) -> dict[str, Any]:
    """What the document template shows, every figure formatted from the snapshot's strings;
    `material_url` links each material (the PDF and previews just list their names)."""
    currency = snapshot["currency"]
    return {
        "doc": {
            "title": snapshot["title"],
            "currency": currency,
            "number": number,
            "date": timezone.localdate(sent_at) if sent_at else timezone.localdate(),
            "intro": snapshot["intro"],
            "closing": snapshot["closing"],
            "terms_conditions": snapshot["terms_conditions"],
            "seller": _seller(snapshot["seller"]),
            "customer": snapshot["customer"],
            "lines": [_line(line, currency) for line in snapshot["lines"]],
            "totals": _totals(snapshot["totals"], currency),
            "payment": _payment(snapshot, currency),
            "delivery": _delivery(snapshot["delivery"]),
            "valid_until": _date(snapshot["valid_until"]),
            "materials": [
                {**m, "url": material_url(m["id"]) if material_url else ""}
                for m in snapshot["materials"]
            ],
        }
    }


def version_context(
    version: ProposalVersion, *, material_url: Callable[[int], str] | None = None
) -> dict[str, Any]:
    """The document of a sent version, exactly as it was frozen."""
    return document_context(
        version.snapshot,
        number=version.number,
        sent_at=version.created_at,
        material_url=material_url,
    )


def draft_snapshot(proposal: Proposal, *, actor: Any) -> dict[str, Any]:
    """The live draft as the next version would freeze it, without saving anything."""
    from .services import version_snapshot

    valid_until = timezone.localdate() + dt.timedelta(days=proposal.validity_days)
    sender = actor if getattr(actor, "is_authenticated", False) else proposal.deal.owner
    return version_snapshot(proposal, sender=sender, valid_until=valid_until)


def document_html(context: dict[str, Any], *, for_pdf: bool = False) -> str:
    """The document as a standalone HTML page (the PDF is printed from this)."""
    return render_to_string(TEMPLATE, {**context, "for_pdf": for_pdf})
