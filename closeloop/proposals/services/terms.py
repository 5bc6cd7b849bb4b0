"""Checking what a template or proposal says besides its lines: payment terms and delivery."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from closeloop.core.exceptions import DomainError
from closeloop.messaging.merge import merge_check

from ..choices import PaymentTermsKind
from ..models import ProposalTerms
from ..pricing import plain

HUNDRED = Decimal(100)
TERM_FIELDS = (
    "intro",
    "closing",
    "payment_terms",
    "net_days",
    "instalments",
    "delivery",
    "validity_days",
    "terms_conditions",
)
MAX_TEXT = 50_000


def _date(value: Any, *, field: str, row: int) -> str:
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise DomainError(
            f"Row {row}: “{str(value)[:40]}” is not a date (YYYY-MM-DD).", field=field
        ) from None


def delivery_clean(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Milestones with a label and either a date or a number of days after acceptance."""
    clean: list[dict[str, Any]] = []
    for row, item in enumerate(rows or [], start=1):
        label = str(item.get("label", "")).strip()[:200]
        if not label:
            raise DomainError(f"Delivery row {row} needs a label.", field="delivery")
        if item.get("date"):
            clean.append({"label": label, "date": _date(item["date"], field="delivery", row=row)})
            continue
        try:
            offset = int(item.get("offset_days"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise DomainError(
                f"Delivery row {row} ({label}) needs a date or days after acceptance.",
                field="delivery",
            ) from None
        if not 0 <= offset <= 3650:
            raise DomainError(
                f"Delivery row {row} ({label}): days after acceptance must be 0 to 3650.",
                field="delivery",
            )
        clean.append({"label": label, "offset_days": offset})
    return clean


def instalments_clean(
    rows: list[dict[str, Any]], *, delivery: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Instalments whose percentages add up to 100, each due on acceptance, on a date or at a
    delivery milestone."""
    milestones = {m["label"] for m in delivery}
    clean: list[dict[str, Any]] = []
    total = Decimal(0)
    for row, item in enumerate(rows or [], start=1):
        try:
            percent = Decimal(str(item.get("percent", "")).replace(",", "."))
        except InvalidOperation:
            raise DomainError(
                f"Instalment {row}: give a percentage.", field="instalments"
            ) from None
        if not Decimal(0) < percent <= HUNDRED:
            raise DomainError(
                f"Instalment {row}: the percentage must be above 0 and at most 100.",
                field="instalments",
            )
        due = str(item.get("due", "")).strip() or "acceptance"
        if due != "acceptance" and due not in milestones:
            due = _date(due, field="instalments", row=row)
        label = str(item.get("label", "")).strip()[:200] or f"Instalment {row}"
        clean.append({"label": label, "percent": plain(percent), "due": due})
        total += percent
    if clean and total != HUNDRED:
        raise DomainError(
            f"The instalments add up to {plain(total)} %, not 100 %.", field="instalments"
        )
    return clean


def terms_apply(target: ProposalTerms, changes: dict[str, Any]) -> list[str]:
    """Check and set the given term fields on a template or proposal; the names changed."""
    unknown = set(changes) - set(TERM_FIELDS)
    if unknown:
        raise DomainError(f"Unknown field: {', '.join(sorted(unknown))}.")
    values = {name: changes.get(name, getattr(target, name)) for name in TERM_FIELDS}
    if values["payment_terms"] not in PaymentTermsKind.values:
        raise DomainError("Choose net days or instalments.", field="payment_terms")
    for name in ("net_days", "validity_days"):
        try:
            values[name] = int(values[name])
        except (TypeError, ValueError):
            raise DomainError("Give a number of days.", field=name) from None
        if not 0 <= values[name] <= 3650:
            raise DomainError("Give a number of days from 0 to 3650.", field=name)
    for name in ("intro", "closing", "terms_conditions"):
        values[name] = str(values[name] or "").strip()
        if len(values[name]) > MAX_TEXT:
            raise DomainError(f"This text can be at most {MAX_TEXT:,} characters.", field=name)
    for name in ("intro", "closing"):
        # merged when a version is frozen: an unknown field must be caught while writing
        merge_check(field=name, text=values[name])
    values["delivery"] = delivery_clean(values["delivery"])
    values["instalments"] = instalments_clean(values["instalments"], delivery=values["delivery"])
    if values["payment_terms"] == PaymentTermsKind.INSTALMENTS and not values["instalments"]:
        raise DomainError("Add the instalments, or choose net days.", field="instalments")
    changed = []
    for name, value in values.items():
        if getattr(target, name) != value:
            setattr(target, name, value)
            changed.append(name)
    return changed
