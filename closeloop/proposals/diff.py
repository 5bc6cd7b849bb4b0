"""What changed between two frozen versions of a proposal, read from their snapshots alone.

Lines are matched first by product (two lines of the same product pair up in their order),
then the rest by name (case and spacing ignored); what is left is added or removed. The
matching is symmetric: swapping the two snapshots swaps added and removed and old and new.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from .choices import Billing, DiscountKind, PaymentTermsKind
from .pricing import plain

Row = dict[str, Any]


@dataclass(frozen=True)
class FieldChange:
    """One field, old → new, as the page shows them (text fields only say "changed")."""

    field: str
    label: str
    old: str
    new: str
    text: bool = False


@dataclass(frozen=True)
class LineChange:
    """A line in both versions whose quantity, price, discount, tax, billing or text changed."""

    name: str
    product_id: int | None
    changes: tuple[FieldChange, ...]
    old_net: str
    new_net: str


@dataclass(frozen=True)
class RowChange:
    """A delivery milestone or instalment added, removed or changed (matched by label)."""

    kind: str  # "added" | "removed" | "changed"
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class TotalChange:
    """The totals of one billing kind (one-off, monthly, yearly) that moved."""

    billing: str
    label: str
    changes: tuple[FieldChange, ...]


@dataclass
class VersionDiff:
    """Everything that changed from one version to the next."""

    currency: str
    added: list[Row] = field(default_factory=list)
    removed: list[Row] = field(default_factory=list)
    changed: list[LineChange] = field(default_factory=list)
    totals: list[TotalChange] = field(default_factory=list)
    terms: list[FieldChange] = field(default_factory=list)
    instalments: list[RowChange] = field(default_factory=list)
    delivery: list[RowChange] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (
            self.added
            or self.removed
            or self.changed
            or self.totals
            or self.terms
            or self.instalments
            or self.delivery
        )


def _number(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _same(old: Any, new: Any) -> bool:
    """Equal as numbers when both are numbers ("10" and "10.00"), else as text."""
    a, b = _number(old), _number(new)
    if a is not None and b is not None and a.is_finite() and b.is_finite():
        return a == b
    return str(old if old is not None else "") == str(new if new is not None else "")


def _show(value: Any) -> str:
    number = _number(value)
    if number is not None and number.is_finite():
        return plain(number)
    return "" if value is None else str(value)


def _discount(line: Row, currency: str) -> str:
    value = _show(line.get("discount_value", "0"))
    if line.get("discount_kind") == DiscountKind.AMOUNT:
        return f"{value} {currency}"
    return f"{value} %"


def _billing_label(value: Any) -> str:
    return Billing(value).label if value in Billing.values else str(value or "")


LINE_FIELDS: tuple[tuple[str, str, Callable[[Row, str], str]], ...] = (
    ("name", "name", lambda line, _: str(line.get("name", ""))),
    ("quantity", "quantity", lambda line, _: _show(line.get("quantity"))),
    ("unit", "unit", lambda line, _: str(line.get("unit", ""))),
    ("unit_price", "unit price", lambda line, _: _show(line.get("unit_price"))),
    ("discount", "discount", _discount),
    ("tax_rate", "tax", lambda line, _: _show(line.get("tax_rate")) + " %"),
    ("billing", "billing", lambda line, _: _billing_label(line.get("billing"))),
)


def _line_changes(old: Row, new: Row, currency: str) -> tuple[FieldChange, ...]:
    changes = []
    for name, label, show in LINE_FIELDS:
        before, after = show(old, currency), show(new, currency)
        if name == "discount":
            same = old.get("discount_kind") == new.get("discount_kind") and _same(
                old.get("discount_value"), new.get("discount_value")
            )
        elif name in ("quantity", "unit_price", "tax_rate"):
            same = _same(old.get(name), new.get(name))
        else:
            same = before == after
        if not same:
            changes.append(FieldChange(name, label, before, after))
    if (old.get("description") or "") != (new.get("description") or ""):
        changes.append(FieldChange("description", "description", "", "", text=True))
    return tuple(changes)


def _pair(
    old: list[Row], new: list[Row], key: Callable[[Row], Hashable | None]
) -> tuple[list[tuple[Row, Row]], list[Row], list[Row]]:
    """Pair lines with the same key in their order; the unpaired are returned as they came."""
    waiting: dict[Hashable, list[int]] = defaultdict(list)
    for index, line in enumerate(new):
        k = key(line)
        if k is not None:
            waiting[k].append(index)
    pairs: list[tuple[Row, Row]] = []
    taken: set[int] = set()
    left_old: list[Row] = []
    for line in old:
        k = key(line)
        if k is not None and waiting.get(k):
            index = waiting[k].pop(0)
            taken.add(index)
            pairs.append((line, new[index]))
        else:
            left_old.append(line)
    left_new = [line for index, line in enumerate(new) if index not in taken]
    return pairs, left_old, left_new


def _by_product(line: Row) -> Hashable | None:
    return line.get("product_id") or None


def _by_name(line: Row) -> Hashable | None:
    return " ".join(str(line.get("name", "")).split()).casefold() or None


def _lines_diff(diff: VersionDiff, old: list[Row], new: list[Row]) -> None:
    by_product, old_rest, new_rest = _pair(old, new, _by_product)
    by_name, removed, added = _pair(old_rest, new_rest, _by_name)
    pairs = sorted(by_product + by_name, key=lambda pair: pair[1].get("position", 0))
    for before, after in pairs:
        changes = _line_changes(before, after, diff.currency)
        if changes:
            diff.changed.append(
                LineChange(
                    name=str(after.get("name", "")),
                    product_id=after.get("product_id"),
                    changes=changes,
                    old_net=_show(before.get("net")),
                    new_net=_show(after.get("net")),
                )
            )
    diff.added = added
    diff.removed = removed


TOTAL_FIELDS = (("subtotal", "subtotal"), ("discount", "discounts"), ("tax", "tax"))


def _totals_diff(diff: VersionDiff, old: Row, new: Row) -> None:
    groups_old = {g["billing"]: g for g in (old or {}).get("by_billing", [])}
    groups_new = {g["billing"]: g for g in (new or {}).get("by_billing", [])}
    for billing in Billing.values:
        if billing not in groups_old and billing not in groups_new:
            continue
        before, after = groups_old.get(billing, {}), groups_new.get(billing, {})
        changes = []
        for name, label in (*TOTAL_FIELDS, ("total", "total")):
            a, b = before.get(name, "0"), after.get(name, "0")
            if not _same(a, b):
                changes.append(FieldChange(name, label, _show(a), _show(b)))
        if changes:
            diff.totals.append(TotalChange(billing, Billing(billing).label, tuple(changes)))


def _payment_label(value: Any) -> str:
    if value in PaymentTermsKind.values:
        return str(PaymentTermsKind(value).label)
    return str(value or "")


def _days(value: Any) -> str:
    return f"{value} days" if value not in (None, "") else ""


SCALAR_TERMS: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("title", "title", lambda v: str(v or "")),
    ("payment_terms", "payment terms", _payment_label),
    ("net_days", "payment due", lambda v: f"net {v} days" if v not in (None, "") else ""),
    ("validity_days", "valid for", _days),
    ("valid_until", "valid until", lambda v: str(v or "")),
)
TEXT_TERMS = (
    ("intro", "introduction"),
    ("closing", "closing text"),
    ("terms_conditions", "terms and conditions"),
)


def _rows_diff(
    old: Iterable[Row] | None, new: Iterable[Row] | None, show: Callable[[Row], str]
) -> list[RowChange]:
    """Rows matched by label, in their order; a relabelled row is one removed, one added."""
    pairs, removed, added = _pair(list(old or []), list(new or []), lambda r: r.get("label"))
    changes = [
        RowChange("changed", str(b.get("label")), show(a), show(b))
        for a, b in pairs
        if show(a) != show(b)
    ]
    changes += [RowChange("removed", str(r.get("label")), show(r), "") for r in removed]
    changes += [RowChange("added", str(r.get("label")), "", show(r)) for r in added]
    return changes


def _instalment(row: Row) -> str:
    due = row.get("due") or "acceptance"
    when = "on acceptance" if due == "acceptance" else f"due {due}"
    return f"{_show(row.get('percent'))} % {when}"


def _milestone(row: Row) -> str:
    if row.get("date"):
        return str(row["date"])
    return f"{row.get('offset_days')} days after acceptance"


def version_diff(previous_snapshot: Row | None, snapshot: Row) -> VersionDiff:
    """What changed from `previous_snapshot` to `snapshot` (the first version: nothing)."""
    diff = VersionDiff(currency=str(snapshot.get("currency", "")))
    if previous_snapshot is None:
        return diff
    old, new = previous_snapshot, snapshot
    _lines_diff(diff, list(old.get("lines", [])), list(new.get("lines", [])))
    _totals_diff(diff, old.get("totals", {}), new.get("totals", {}))
    for name, label, show in SCALAR_TERMS:
        # net days say nothing while the customer pays in instalments
        both_instalments = (
            old.get("payment_terms") == new.get("payment_terms") == PaymentTermsKind.INSTALMENTS
        )
        if name == "net_days" and both_instalments:
            continue
        before, after = show(old.get(name)), show(new.get(name))
        if before != after:
            diff.terms.append(FieldChange(name, label, before, after))
    for name, label in TEXT_TERMS:
        if (old.get(name) or "") != (new.get(name) or ""):
            diff.terms.append(FieldChange(name, label, "", "", text=True))
    diff.instalments = _rows_diff(old.get("instalments"), new.get("instalments"), _instalment)
    diff.delivery = _rows_diff(old.get("delivery"), new.get("delivery"), _milestone)
    return diff
