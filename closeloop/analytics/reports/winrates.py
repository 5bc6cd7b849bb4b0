"""Win rates: of the deals closed (won or lost) in the period, the share won, per group.

A win rate is won ÷ closed, shown with the closed count and its Wilson 95 % interval
(`stats.Rate`), so a 100 % over two deals is not read as a sure thing. The groups are the owner,
source, campaign, product, proposal template and deal size band. Each section is one grouped
query over `DealFacts`; the product and template sections join the deals' proposals and count
distinct deals, so a deal counts once per product (or template) however many lines carry it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    F,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)

from closeloop.core.money import base_currency
from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.models import DealFacts
from closeloop.pipeline.rollups.models import SIZE_BAND_EDGES, Cell, ClosedCell, TraitCell

from ..cells import Rows, deals, report_rows
from ..charts import Chart, hbar_chart
from ..filters import ReportFilters, report_facts
from ..results import ReportKind, ReportResult, Section, Table, report_register
from ..stats import Rate

SMALL_SAMPLE = 10  # fewer closed deals than this in a row and the row is marked "small sample"

OTHER_CURRENCY = -1  # the band key of deals in another currency than the base one

NO_SOURCE = "(no source)"
NO_CAMPAIGN = "(no campaign)"

HEADERS = ["Deals closed", "Won", "Lost", "Win rate %", "95 % interval from %", "to %", "Sample"]


def band_label(index: int) -> str:
    """'under 1,000', '1,000–4,999', …, '50,000 and more' from `SIZE_BAND_EDGES`."""
    if index == OTHER_CURRENCY:
        return "other currency"
    low = SIZE_BAND_EDGES[index]
    if index + 1 == len(SIZE_BAND_EDGES):
        return f"{low:,} and more"
    high = SIZE_BAND_EDGES[index + 1] - 1
    return f"under {high + 1:,}" if index == 0 else f"{low:,}–{high:,}"


@dataclass(frozen=True)
class RateRow:
    """One group's closed and won deals; `order` breaks ties between equal closed counts."""

    label: str
    closed: int
    won: int
    order: Any = ""

    @property
    def rate(self) -> Rate:
        return Rate(self.won, self.closed)

    @property
    def lost(self) -> int:
        return self.closed - self.won

    @property
    def small(self) -> bool:
        return self.closed < SMALL_SAMPLE


def closed_facts(*, user: Any, filters: ReportFilters) -> QuerySet[DealFacts]:
    """The visible, filtered deals won or lost in the period."""
    return report_facts(user=user, filters=filters, date_field="closed_at").filter(
        status__in=[DealStatus.WON, DealStatus.LOST]
    )


def closed_facts_of_proposals(*, user: Any, filters: ReportFilters) -> QuerySet[DealFacts]:
    """The same deals, for the sections joined to proposals (products, templates).

    A deal with a proposal is one of few: SQLite should start from the proposals and look
    each deal's facts up, but its planner starts from the closed-date index and looks the
    proposals up for every deal closed in the period (2 s for a year of a million deals,
    0.2 s the other way round). On SQLite the period is therefore compared on `+closed_at`,
    which no index answers; PostgreSQL plans the join well as it is."""
    if connection.vendor != "sqlite":
        return closed_facts(user=user, filters=filters)
    unindexed = Func(F("closed_at"), template="+%(expressions)s", output_field=DateTimeField())
    return (
        report_facts(user=user, filters=filters, date_field=None)
        .annotate(closed_on=unindexed)
        .filter(filters.period.q("closed_on"), status__in=[DealStatus.WON, DealStatus.LOST])
    )


def closed_rows(model: type[Cell], *, user: Any, filters: ReportFilters, **cells: Any) -> Rows:
    """The same deals, counted by the rollup cells of `model` where they can."""
    return report_rows(model, user=user, filters=filters, **cells)


def _grouped(
    facts: QuerySet[DealFacts],
    key: str,
    label: str | None,
    *,
    distinct: bool = False,
) -> Iterable[dict[str, Any]]:
    """One GROUP BY `key`: closed and won deals per group (distinct deals across joins)."""
    fields = {"key": F(key)} | ({"name": F(label)} if label else {})
    return (
        facts.values(**fields)
        .annotate(
            closed=Count("deal_id", distinct=distinct),
            won=Count("deal_id", distinct=distinct, filter=Q(status=DealStatus.WON)),
        )
        .order_by()
    )


def _counted(rows: Rows, key: str, label: str | None) -> list[dict[str, Any]]:
    """Closed and won deals per `key` (with its `label`), from cells or facts alike."""
    names = {"key": F(key)} | ({"name": F(label)} if label else {})
    return rows.annotate(**names).group(*names, closed=deals(), won=deals(Q(status=DealStatus.WON)))


def _sorted(rows: Iterable[RateRow]) -> list[RateRow]:
    return sorted(rows, key=lambda r: (-r.closed, r.order))


def rows_by_owner(closed: Rows) -> list[RateRow]:
    """Per owner (named as on the rest of the app: full name, else the email's name)."""
    # the names come in the same grouped query, through the join on the owner
    groups = closed.annotate(
        key=F("owner_id"), full_name=F("owner__full_name"), email=F("owner__email")
    ).group("key", "full_name", "email", closed=deals(), won=deals(Q(status=DealStatus.WON)))
    rows = []
    for g in groups:
        name = g["full_name"] or g["email"].split("@")[0]
        rows.append(RateRow(name, g["closed"], g["won"], name.lower()))
    return _sorted(rows)


def _named_rows(groups: Iterable[dict[str, Any]], none_label: str | None) -> list[RateRow]:
    rows = []
    for g in groups:
        if g["key"] is None:
            if none_label is None:
                continue
            rows.append(RateRow(none_label, g["closed"], g["won"], "\uffff"))  # ties: last
        else:
            rows.append(RateRow(g["name"], g["closed"], g["won"], g["name"].lower()))
    return _sorted(rows)


def rows_by_source(closed: Rows) -> list[RateRow]:
    return _named_rows(_counted(closed, "source_id", "source__name"), NO_SOURCE)


def rows_by_campaign(closed: Rows) -> list[RateRow]:
    return _named_rows(_counted(closed, "campaign_id", "campaign__name"), NO_CAMPAIGN)


def rows_by_product(facts: QuerySet[DealFacts]) -> list[RateRow]:
    """Deals whose proposals (any of them, in any state) have a line with the product; a deal
    with two products counts in both rows, one with the product on two lines once."""
    groups = _grouped(
        facts.filter(deal__proposals__lines__product__isnull=False),
        "deal__proposals__lines__product_id",
        "deal__proposals__lines__product__name",
        distinct=True,
    )
    return _named_rows(groups, None)


def rows_by_template(facts: QuerySet[DealFacts]) -> list[RateRow]:
    """Deals with at least one proposal started from the template."""
    groups = _grouped(
        facts.filter(deal__proposals__template__isnull=False),
        "deal__proposals__template_id",
        "deal__proposals__template__name",
        distinct=True,
    )
    return _named_rows(groups, None)


def size_band() -> Case:
    """The band index of a deal's value, in its own currency (as `TraitCell.band` says)."""
    # highest edge first: the first matching When wins
    whens = [
        When(value__gte=SIZE_BAND_EDGES[index], then=Value(index))
        for index in range(len(SIZE_BAND_EDGES) - 1, 0, -1)
    ]
    return Case(*whens, default=Value(0), output_field=IntegerField())


def rows_by_size(closed: Rows, *, base: str) -> list[RateRow]:
    """Per size band of the value in the `base` currency, "other currency" last on ties."""
    closed = closed.annotate_facts(band=size_band())
    found: dict[int, list[int]] = {}
    for g in closed.group("band", "currency", closed=deals(), won=deals(Q(status=DealStatus.WON))):
        key = g["band"] if g["currency"] == base else OTHER_CURRENCY
        counts = found.setdefault(key, [0, 0])
        counts[0] += g["closed"]
        counts[1] += g["won"]
    rows = [
        RateRow(
            band_label(key),
            closed,
            won,
            len(SIZE_BAND_EDGES) if key == OTHER_CURRENCY else key,
        )
        for key, (closed, won) in found.items()
    ]
    return _sorted(rows)


def _table_rows(rows: list[RateRow]) -> list[list[Any]]:
    return [
        [
            r.label,
            r.closed,
            r.won,
            r.lost,
            r.rate.value,
            r.rate.low,
            r.rate.high,
            "small sample" if r.small else "",
        ]
        for r in rows
    ]


def rate_chart(title: str, rows: list[RateRow]) -> Chart:
    """Win rate bars on a 0–100 % axis, the interval drawn as a whisker over each bar."""
    return hbar_chart(
        title,
        [(r.label, [float(r.rate.value or 0)]) for r in rows],
        ["Win rate %"],
        texts=[[f"{r.rate.value} % of {r.closed:,}"] for r in rows],
        whiskers=[[(float(r.rate.low or 0), float(r.rate.high or 0))] for r in rows],
        top=100,
    )


def overall_line(rows: list[RateRow]) -> str:
    """The win rate of all closed deals, in words."""
    closed = sum(r.closed for r in rows)
    won = sum(r.won for r in rows)
    if not closed:
        return "No deals were won or lost in this period, so there is no win rate to show."
    rate = Rate(won, closed)
    return (
        f"Overall win rate: {rate.value} % — {won:,} won of {closed:,} deals closed "
        f"(95 % interval {rate.low} %–{rate.high} %)."
    )


@dataclass(frozen=True)
class Part:
    """One section of the page: its table key, heading, the column it groups by, its words."""

    key: str
    title: str
    group: str
    text: str


PARTS = [
    Part("owner", "By owner", "Owner", "The win rate of each deal owner."),
    Part("source", "By source", "Source", "Where the deals came from."),
    Part(
        "campaign",
        "By campaign",
        "Campaign",
        "The campaign each deal came from; deals without one are counted in “(no campaign)”.",
    ),
    Part(
        "product",
        "By product",
        "Product",
        "Deals whose proposals have a line with the product. A deal with two products counts "
        "in both rows, so the rows add up to more than the deals closed; deals without a "
        "proposal line for a product are not shown.",
    ),
    Part(
        "template",
        "By proposal template",
        "Proposal template",
        "Deals with a proposal started from the template (a deal with proposals from two "
        "templates counts in both); deals without such a proposal are not shown.",
    ),
    Part(
        "size",
        "By deal size",
        "Deal size",
        "Deals by their value in {base}: {bands} (each band runs up to, not including, the "
        "next). Deals in another currency are counted in “other currency”.",
    ),
]


def winrates_report(*, user: Any, filters: ReportFilters) -> ReportResult:
    facts = closed_facts_of_proposals(user=user, filters=filters)
    base = base_currency()  # read once: outside a request every read is a query

    def traits(trait: str) -> Rows:
        return closed_rows(TraitCell, user=user, filters=filters, trait=trait)

    found = {
        "owner": rows_by_owner(closed_rows(ClosedCell, user=user, filters=filters)),
        "source": rows_by_source(traits(TraitCell.SOURCE)),
        "campaign": rows_by_campaign(traits(TraitCell.CAMPAIGN)),
        "product": rows_by_product(facts),
        "template": rows_by_template(facts),
        "size": rows_by_size(traits(TraitCell.BAND), base=base),
    }
    bands = ", ".join(band_label(i) for i in range(len(SIZE_BAND_EDGES)))
    sections = []
    for part in PARTS:
        rows = found[part.key]
        sections.append(
            Section(
                part.title,
                part.text.format(base=base, bands=bands),
                rate_chart(f"Win rate by {part.group.lower()}, with its 95 % interval", rows),
                Table(
                    part.key,
                    f"Win rate by {part.group.lower()}",
                    [part.group, *HEADERS],
                    _table_rows(rows),
                ),
            )
        )
    return ReportResult(
        sections,
        notes=[
            # every deal has exactly one owner, so the owner rows add up to all closed deals
            overall_line(found["owner"]),
            "Win rate = deals won ÷ deals closed (won or lost) in the period; open deals do not "
            "count. The 95 % interval is the range the true win rate very likely lies in, given "
            "how many deals it rests on: the fewer the deals, the wider it is. Rows with fewer "
            f"than {SMALL_SAMPLE} closed deals are marked “small sample”.",
        ],
    )


report_register(
    ReportKind(
        key="win-rates",
        title="Win rates",
        summary="Which owners, sources, campaigns, products, templates and deal sizes win "
        "most often, with how sure each figure is.",
        build=winrates_report,
        position=30,
        date_basis="deals won or lost in the period",
    )
)
