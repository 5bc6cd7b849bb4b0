"""Reads of surveys: the settings list, what a survey link shows, and the results page.

Results count in the database: for each group (rep, product, month) one GROUP BY query counts
invites, answers and answers per score (distinct, because a deal sold with several proposal
lines of one product joins once per line); NPS and the CSAT average are worked out from those
counts, so no answer row is loaded to compute a figure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date

from closeloop.accounts.visibility import owner_filter

from .choices import SurveyKind
from .models import Survey, SurveyInvite, SurveyResponse
from .surveys import can_change, is_detractor, is_promoter

NPS_SCORES = range(0, 11)
CSAT_SCORES = range(1, 6)
RESPONSES_SHOWN = 200


def survey_list(*, active_only: bool = False) -> QuerySet[Survey]:
    """Every survey (settings) or the ones that can be sent, with how many were sent/answered."""
    qs = Survey.objects.annotate(
        sent=Count("invites", distinct=True), answered=Count("invites__response", distinct=True)
    )
    return qs.filter(is_active=True) if active_only else qs


@dataclass(frozen=True)
class SurveyPage:
    """What the customer's survey page shows: the question, their answer, and whether it can
    still change."""

    invite: SurveyInvite
    response: SurveyResponse | None
    editable: bool
    change_until: dt.datetime | None


def survey_page(*, invite: SurveyInvite) -> SurveyPage:
    """The state of one invite for its public page."""
    response = SurveyResponse.objects.filter(invite=invite).first()
    until = response.answered_at + dt.timedelta(days=7) if response else None
    return SurveyPage(invite, response, can_change(response), until)


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SurveyFilters:
    """Which invites the results count: sent in [date_from, date_to], of one survey, one rep,
    or deals that sold one product."""

    survey_id: int | None = None
    owner_id: int | None = None
    product_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @classmethod
    def from_query(cls, params: QueryDict) -> SurveyFilters:
        def number(name: str) -> int | None:
            value = params.get(name, "")
            return int(value) if value.isdigit() else None

        return cls(
            survey_id=number("survey"),
            owner_id=number("owner"),
            product_id=number("product"),
            date_from=parse_date(params.get("from", "") or "")
            if _date_ok(params, "from")
            else None,
            date_to=parse_date(params.get("to", "") or "") if _date_ok(params, "to") else None,
        )


def _date_ok(params: QueryDict, name: str) -> bool:
    try:
        return parse_date(params.get(name, "") or "") is not None
    except ValueError:
        return False


@dataclass
class Score:
    """The figures of one group of invites."""

    label: str
    key: Any = None
    sent: int = 0
    answered: int = 0
    nps_counts: dict[int, int] = field(default_factory=dict)
    csat_counts: dict[int, int] = field(default_factory=dict)

    @property
    def response_rate(self) -> Decimal | None:
        """Answered ÷ sent, in percent to one decimal."""
        return _percent(self.answered, self.sent)

    @property
    def nps_answers(self) -> int:
        return sum(self.nps_counts.values())

    @property
    def promoters(self) -> int:
        return sum(n for s, n in self.nps_counts.items() if is_promoter(SurveyKind.NPS, s))

    @property
    def detractors(self) -> int:
        return sum(n for s, n in self.nps_counts.items() if is_detractor(SurveyKind.NPS, s))

    @property
    def nps(self) -> int | None:
        """% promoters − % detractors of the NPS answers, rounded to a whole number."""
        if not self.nps_answers:
            return None
        exact = Decimal(100 * (self.promoters - self.detractors)) / self.nps_answers
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))

    @property
    def csat_answers(self) -> int:
        return sum(self.csat_counts.values())

    @property
    def csat(self) -> Decimal | None:
        """The average CSAT score (1–5), to two decimals."""
        if not self.csat_answers:
            return None
        total = sum(s * n for s, n in self.csat_counts.items())
        return (Decimal(total) / self.csat_answers).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100 * part) / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _aggregates() -> dict[str, Count]:
    nps, csat = Q(survey__kind=SurveyKind.NPS), Q(survey__kind=SurveyKind.CSAT)
    counts: dict[str, Count] = {
        "sent": Count("pk", distinct=True),
        "answered": Count("response", distinct=True),
    }
    for score in NPS_SCORES:
        counts[f"nps_{score}"] = Count(
            "response", filter=nps & Q(response__score=score), distinct=True
        )
    for score in CSAT_SCORES:
        counts[f"csat_{score}"] = Count(
            "response", filter=csat & Q(response__score=score), distinct=True
        )
    return counts


def _score(label: str, key: Any, row: dict[str, Any]) -> Score:
    return Score(
        label=label,
        key=key,
        sent=row["sent"],
        answered=row["answered"],
        nps_counts={s: row[f"nps_{s}"] for s in NPS_SCORES if row[f"nps_{s}"]},
        csat_counts={s: row[f"csat_{s}"] for s in CSAT_SCORES if row[f"csat_{s}"]},
    )


def survey_invites(*, user: Any, filters: SurveyFilters) -> QuerySet[SurveyInvite]:
    """The invites `user` may see (their customers': owned by them, or by whom they may see)
    that match the filters."""
    qs = SurveyInvite.objects.all()
    condition = owner_filter(user, "owner")
    if condition is not None:
        qs = qs.filter(condition)
    if filters.survey_id:
        qs = qs.filter(survey_id=filters.survey_id)
    if filters.owner_id:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.product_id:
        qs = qs.filter(deal__proposals__lines__product_id=filters.product_id).distinct()
    zone = timezone.get_current_timezone()
    if filters.date_from:
        start = dt.datetime.combine(filters.date_from, dt.time.min, tzinfo=zone)
        qs = qs.filter(created_at__gte=start)
    if filters.date_to:
        end = dt.datetime.combine(filters.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        qs = qs.filter(created_at__lt=end)
    return qs


@dataclass
class SurveyResults:
    """The results page: the total, and the same figures by rep, by product and by month."""

    total: Score
    by_rep: list[Score]
    by_product: list[Score]
    by_month: list[Score]
    responses: list[SurveyResponse]


def survey_results(*, user: Any, filters: SurveyFilters) -> SurveyResults:
    """NPS, CSAT average and response rate of the visible invites matching the filters."""
    invites = survey_invites(user=user, filters=filters)
    base = SurveyInvite.objects.filter(pk__in=invites.values("pk"))
    aggregates = _aggregates()
    total = _score("All", None, base.aggregate(**aggregates))
    by_rep = [
        _score(row["owner__full_name"] or row["owner__email"] or "Nobody", row["owner_id"], row)
        for row in base.order_by()
        .values("owner_id", "owner__full_name", "owner__email")
        .annotate(**aggregates)
        .order_by("owner__full_name", "owner__email", "owner_id")
    ]
    by_product = [
        _score(row["product_name"], row["product_id"], row)
        for row in base.filter(deal__proposals__lines__product__isnull=False)
        .order_by()
        .values(
            product_id=F("deal__proposals__lines__product_id"),
            product_name=F("deal__proposals__lines__product__name"),
        )
        .annotate(**aggregates)
        .order_by("product_name", "product_id")
    ]
    by_month = [
        _score(row["month"].strftime("%B %Y"), row["month"], row)
        for row in base.order_by()
        .annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(**aggregates)
        .order_by("-month")
    ]
    responses = list(
        SurveyResponse.objects.filter(invite__in=base)
        .select_related("invite__survey", "invite__contact", "invite__deal", "invite__owner")
        .order_by("-answered_at")[:RESPONSES_SHOWN]
    )
    return SurveyResults(total, by_rep, by_product, by_month, responses)


# --- answers, one by one (the API) ----------------------------------------------------------


@dataclass(frozen=True)
class ResponseFilters:
    """Which visible answers a list shows: of one survey or kind, answered within
    [answered_from, answered_to] (whole days), with a score within [score_min, score_max]."""

    survey_id: int | None = None
    kind: str = ""
    answered_from: dt.date | None = None
    answered_to: dt.date | None = None
    score_min: int | None = None
    score_max: int | None = None


def survey_response_list(*, user: Any, filters: ResponseFilters) -> QuerySet[SurveyResponse]:
    """The answers `user` may see (of invites owned by them or by whom they may see, as the
    results page counts them) matching the filters, with their survey, contact and deal."""
    qs = SurveyResponse.objects.select_related(
        "invite__survey", "invite__contact", "invite__organization", "invite__deal"
    )
    condition = owner_filter(user, "invite__owner")
    if condition is not None:
        qs = qs.filter(condition)
    if filters.survey_id is not None:
        qs = qs.filter(invite__survey_id=filters.survey_id)
    if filters.kind:
        qs = qs.filter(invite__survey__kind=filters.kind)
    if filters.answered_from:
        qs = qs.filter(answered_at__date__gte=filters.answered_from)
    if filters.answered_to:
        qs = qs.filter(answered_at__date__lte=filters.answered_to)
    if filters.score_min is not None:
        qs = qs.filter(score__gte=filters.score_min)
    if filters.score_max is not None:
        qs = qs.filter(score__lte=filters.score_max)
    return qs
