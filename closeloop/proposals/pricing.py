"""Proposal arithmetic: one rounding rule, in Decimal, for the page, the PDF and every report.

The rule (docs/user-guide.md, "How totals are computed"):
1. A line's amount is quantity × unit price, rounded half-up to the currency's minor unit
   (cents; whole units for currencies without them, such as JPY).
2. Its discount is the percentage of that rounded amount, rounded the same way, or the amount
   given; a discount never exceeds the line's amount. The line's net is amount − discount.
3. Tax is computed once per tax rate on the sum of the nets at that rate, then rounded — not
   per line — so a proposal's tax is what an invoice for the same lines would show.
4. One-off, monthly and yearly lines are totalled apart; they are never added together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from closeloop.core.exceptions import DomainError

from .choices import Billing, DiscountKind

HUNDRED = Decimal(100)
ZERO = Decimal(0)
# ISO 4217 minor units where they are not 2
MINOR_UNITS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0, "BHD": 3, "KWD": 3, "OMR": 3}


class PricedLine(Protocol):
    name: str
    quantity: Decimal
    unit_price: Decimal
    discount_kind: str
    discount_value: Decimal
    tax_rate: Decimal
    billing: str


def plain(number: Decimal) -> str:
    """A number without trailing zeros or exponent: 100.0000 → "100", 0.3300 → "0.33"."""
    return format(number.normalize(), "f")


def money_round(amount: Decimal, currency: str) -> Decimal:
    """Half-up to the currency's minor unit."""
    places = MINOR_UNITS.get(currency.upper(), 2)
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineTotal:
    amount: Decimal
    discount: Decimal
    net: Decimal

    @property
    def discount_percent(self) -> Decimal:
        """The discount as a share of the amount, for the limits (0 for a free line)."""
        return (self.discount / self.amount * HUNDRED) if self.amount else ZERO


@dataclass
class BillingTotal:
    """The totals of one billing kind (one-off, monthly or yearly)."""

    billing: str
    subtotal: Decimal = ZERO
    discount: Decimal = ZERO
    net: Decimal = ZERO
    tax_by_rate: dict[Decimal, Decimal] = field(default_factory=dict)

    @property
    def tax(self) -> Decimal:
        return sum(self.tax_by_rate.values(), ZERO)

    @property
    def total(self) -> Decimal:
        return self.net + self.tax

    @property
    def label(self) -> str:
        return Billing(self.billing).label


@dataclass
class ProposalTotals:
    currency: str
    lines: list[LineTotal]
    by_billing: list[BillingTotal]

    def billing(self, billing: str) -> BillingTotal:
        for group in self.by_billing:
            if group.billing == billing:
                return group
        return BillingTotal(billing)

    @property
    def one_off(self) -> BillingTotal:
        return self.billing(Billing.ONE_OFF)

    @property
    def discount(self) -> Decimal:
        return sum((g.discount for g in self.by_billing), ZERO)

    @property
    def subtotal(self) -> Decimal:
        return sum((g.subtotal for g in self.by_billing), ZERO)

    @property
    def discount_percent(self) -> Decimal:
        subtotal = self.subtotal
        return (self.discount / subtotal * HUNDRED) if subtotal else ZERO

    def as_json(self) -> dict[str, Any]:
        """For a frozen version's snapshot: every figure as a string, nothing recomputed later."""
        return {
            "currency": self.currency,
            "lines": [
                {"amount": str(t.amount), "discount": str(t.discount), "net": str(t.net)}
                for t in self.lines
            ],
            "by_billing": [
                {
                    "billing": g.billing,
                    "subtotal": str(g.subtotal),
                    "discount": str(g.discount),
                    "net": str(g.net),
                    "tax_by_rate": {str(rate): str(tax) for rate, tax in g.tax_by_rate.items()},
                    "tax": str(g.tax),
                    "total": str(g.total),
                }
                for g in self.by_billing
            ],
        }


def line_check(line: PricedLine, *, position: int) -> None:
    """Refuse what no proposal can say, naming the line."""
    where = f"Line {position} ({line.name or 'no name'})"
    if not (line.name or "").strip():
        raise DomainError(f"Line {position} needs a name.", field="lines")
    if line.quantity <= 0:
        raise DomainError(f"{where}: the quantity must be more than 0.", field="lines")
    if line.unit_price < 0:
        raise DomainError(
            f"{where}: the unit price cannot be negative (give a discount instead).", field="lines"
        )
    if line.discount_value < 0:
        raise DomainError(f"{where}: a discount cannot be negative.", field="lines")
    if line.discount_kind == DiscountKind.PERCENT and line.discount_value > HUNDRED:
        raise DomainError(f"{where}: a discount cannot be more than 100 %.", field="lines")
    if line.discount_kind not in DiscountKind.values:
        raise DomainError(f"{where}: unknown discount kind.", field="lines")
    if not (ZERO <= line.tax_rate <= HUNDRED):
        raise DomainError(f"{where}: the tax rate must be between 0 and 100 %.", field="lines")
    if line.billing not in Billing.values:
        raise DomainError(f"{where}: unknown billing.", field="lines")


def line_total(line: PricedLine, currency: str, *, position: int = 1) -> LineTotal:
    """One line's amount, discount and net by the rule above."""
    amount = money_round(line.quantity * line.unit_price, currency)
    if line.discount_kind == DiscountKind.PERCENT:
        discount = money_round(amount * line.discount_value / HUNDRED, currency)
    else:
        discount = money_round(line.discount_value, currency)
        if discount > amount:
            raise DomainError(
                f"Line {position} ({line.name}): the discount is more than the line's amount.",
                field="lines",
            )
    return LineTotal(amount=amount, discount=discount, net=amount - discount)


def proposal_totals(lines: Iterable[PricedLine], currency: str) -> ProposalTotals:
    """Every line's and every billing kind's totals, with tax by rate."""
    line_totals: list[LineTotal] = []
    groups: dict[str, BillingTotal] = {}
    nets_by_rate: dict[tuple[str, Decimal], Decimal] = {}
    for position, line in enumerate(lines, start=1):
        line_check(line, position=position)
        total = line_total(line, currency, position=position)
        line_totals.append(total)
        group = groups.setdefault(line.billing, BillingTotal(line.billing))
        group.subtotal += total.amount
        group.discount += total.discount
        group.net += total.net
        key = (line.billing, Decimal(line.tax_rate).normalize())
        nets_by_rate[key] = nets_by_rate.get(key, ZERO) + total.net
    for (billing, rate), net in sorted(nets_by_rate.items()):
        groups[billing].tax_by_rate[rate] = money_round(net * rate / HUNDRED, currency)
    order = list(Billing.values)
    return ProposalTotals(
        currency=currency,
        lines=line_totals,
        by_billing=sorted(groups.values(), key=lambda g: order.index(g.billing)),
    )


def instalment_amounts(total: Decimal, percents: Iterable[Decimal], currency: str) -> list[Decimal]:
    """What each instalment comes to: its percentage of the total, rounded by the rule above,
    except the last, which takes what is left so the instalments always add up to the total."""
    shares = [Decimal(p) for p in percents]
    amounts = [money_round(total * share / HUNDRED, currency) for share in shares[:-1]]
    if shares:
        amounts.append(total - sum(amounts, ZERO))
    return amounts
