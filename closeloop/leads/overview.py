"""The home page's seven-stage strip: the whole journey from prospect to customer, as one read.

Every figure goes through the visibility selectors (`lead_queryset`, `deal_queryset`), so a rep's
strip counts only what they can see. The number of queries does not grow with the data.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from closeloop.activities.models import Notification
from closeloop.core.money import base_currency
from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.models import Pipeline
from closeloop.pipeline.selectors import deal_queryset

from .choices import OPEN_LEAD_STATUSES, LeadStatus
from .selectors import lead_queryset

PERIODS = {"month": "This month", "quarter": "This quarter", "year": "This year"}


@dataclass(frozen=True)
class Period:
    """A calendar period in the workspace's time zone: [start, end)."""

    key: str
    label: str
    start: dt.datetime
    end: dt.datetime

    @property
    def first_day(self) -> dt.date:
        return self.start.date()

    @property
    def last_day(self) -> dt.date:
        return (self.end - dt.timedelta(days=1)).date()


def period_for(key: str, now: dt.datetime | None = None) -> Period:
    """This month, quarter or year (unknown keys mean this month), in local time."""
    key = key if key in PERIODS else "month"
    local = timezone.localtime(now or timezone.now())
    if key == "year":
        start, months = local.replace(month=1), 12
    elif key == "quarter":
        start, months = local.replace(month=(local.month - 1) // 3 * 3 + 1), 3
    else:
        start, months = local, 1
    start = start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    month = start.month - 1 + months
    end = start.replace(year=start.year + month // 12, month=month % 12 + 1)
    return Period(key, PERIODS[key], start, end)


@dataclass
class Cell:
    """One stage of the strip: how many, how much (per currency), and where to see them."""

    label: str
    kind: str  # "lead", "deal", "won", "lost", "customers"
    count: int = 0
    url: str = ""
    values: dict[str, Decimal] = field(default_factory=dict)
    note: str = ""
    links: list[tuple[str, int, str]] = field(default_factory=list)  # (label, count, url)

    base_value: Decimal | None = None  # the total in the base currency; None for lead cells

    @property
    def has_money(self) -> bool:
        return self.kind in ("deal", "won", "lost")


@dataclass
class Strip:
    """The seven stages for one pipeline and period, plus the user's own short list."""

    pipeline: Pipeline | None
    period: Period
    currency: str
    cells: list[Cell]
    my_open_leads: int = 0
    back_from_nurture: int = 0
    unread_notifications: int = 0
    organizations: int = 0
    contacts: int = 0

    @property
    def other_currencies(self) -> list[tuple[str, str, Decimal]]:
        """(stage, currency, total) for money not in the base currency, shown apart."""
        return [
            (cell.label, code, total)
            for cell in self.cells
            for code, total in sorted(cell.values.items())
            if code != self.currency
        ]


def _url(name: str, **params: Any) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{reverse(name)}?{query}" if query else reverse(name)


def journey_strip(*, user: Any, pipeline: Pipeline | None, period: Period) -> Strip:
    """Prospects, qualifying, each open-deal stage, won and lost in the period, customers."""
    currency = base_currency()
    leads = lead_queryset(user=user).order_by()
    status_counts = dict(
        leads.filter(status__in=OPEN_LEAD_STATUSES).values_list("status").annotate(n=Count("pk"))
    )
    contacted = status_counts.get(LeadStatus.CONTACTED, 0)
    qualifying = status_counts.get(LeadStatus.QUALIFYING, 0)
    lead_list = "leads:lead_list"
    cells = [
        Cell(
            "Prospects",
            "lead",
            status_counts.get(LeadStatus.NEW, 0),
            _url(lead_list, status=LeadStatus.NEW),
            note="new leads",
        ),
        Cell(
            "Qualifying",
            "lead",
            contacted + qualifying,
            _url(lead_list, status=LeadStatus.QUALIFYING),
            note="contacted or qualifying",
            links=[
                ("contacted", contacted, _url(lead_list, status=LeadStatus.CONTACTED)),
                ("qualifying", qualifying, _url(lead_list, status=LeadStatus.QUALIFYING)),
            ],
        ),
    ]
    strip = Strip(pipeline=pipeline, period=period, currency=currency, cells=cells)
    week_start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    week_start -= dt.timedelta(days=week_start.weekday())
    mine = leads.aggregate(
        open=Count("pk", filter=Q(owner=user, status__in=OPEN_LEAD_STATUSES)),
        back=Count("pk", filter=Q(nurture_returned_at__gte=week_start)),
    )
    strip.my_open_leads, strip.back_from_nurture = mine["open"], mine["back"]
    strip.unread_notifications = Notification.objects.filter(
        recipient=user, read_at__isnull=True
    ).count()
    if pipeline is None:
        return strip

    deals = deal_queryset(user=user).filter(pipeline=pipeline).order_by()
    stages = list(pipeline.stages.order_by("position", "pk"))
    open_rows = (
        deals.filter(status=DealStatus.OPEN)
        .values_list("stage_id", "currency")
        .annotate(n=Count("pk"), total=Sum("value"))
    )
    by_stage: dict[int, Cell] = {}
    for stage in stages:
        by_stage[stage.pk] = Cell(
            stage.name,
            "deal",
            url=_url("pipeline:deal_list", pipeline=pipeline.pk, stage=stage.pk, status="open"),
        )
        cells.append(by_stage[stage.pk])
    for stage_id, code, n, total in open_rows:
        cell = by_stage[stage_id]
        cell.count += n
        cell.values[code] = cell.values.get(code, Decimal("0")) + (total or Decimal("0"))

    closed: dict[str, Cell] = {
        status: Cell(
            label,
            status,
            url=_url(
                "pipeline:deal_list",
                pipeline=pipeline.pk,
                status=status,
                closed_from=period.first_day.isoformat(),
                closed_to=period.last_day.isoformat(),
            ),
            note=period.label.lower(),
        )
        for status, label in ((DealStatus.WON, "Won"), (DealStatus.LOST, "Lost"))
    }
    won_in_period = Q(status=DealStatus.WON, won_at__gte=period.start, won_at__lt=period.end)
    lost_in_period = Q(status=DealStatus.LOST, lost_at__gte=period.start, lost_at__lt=period.end)
    closed_rows = (
        deals.filter(won_in_period | lost_in_period)
        .values_list("status", "currency")
        .annotate(n=Count("pk"), total=Sum("value"))
    )
    totals: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for status, code, n, total in closed_rows:
        closed[status].count += n
        totals[status][code] = totals[status].get(code, Decimal("0")) + (total or Decimal("0"))
    for status, values in totals.items():
        closed[status].values = values
    cells += [closed[DealStatus.WON], closed[DealStatus.LOST]]

    customers = deals.filter(won_in_period).aggregate(
        organizations=Count("organization", distinct=True),
        contacts=Count("contact", distinct=True),
    )
    strip.organizations, strip.contacts = customers["organizations"], customers["contacts"]
    cells.append(
        Cell(
            "Post-purchase",
            "customers",
            strip.organizations,
            closed[DealStatus.WON].url,
            note="follow-up plans come in a later release",
        )
    )
    for cell in cells:
        if cell.has_money:
            cell.base_value = cell.values.get(currency, Decimal("0"))
    return strip
