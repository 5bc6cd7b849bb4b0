"""Reads about sales targets: who may set whose, and the amounts of a month or a period."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet, Sum

from closeloop.accounts.choices import Role
from closeloop.accounts.models import User

from .filters import month_start
from .models import SalesTarget


def sales_target_reps(*, user: Any) -> QuerySet[User]:
    """The people whose targets `user` may set: admins anyone active, managers the other
    members of their teams, reps nobody."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return User.objects.none()
    people = User.objects.filter(is_active=True).order_by("full_name", "email")
    if user.role == Role.ADMIN:
        return people
    if user.role == Role.MANAGER:
        # a manager's own target is set by an admin, never by themselves
        return people.filter(teams__members=user).exclude(pk=user.pk).distinct()
    return User.objects.none()


def sales_target_month(*, user: Any, month: dt.date) -> dict[tuple[int, str], Decimal]:
    """The targets of one month for the people `user` may set them for: (user id, metric) →
    amount."""
    rows = SalesTarget.objects.filter(
        month=month_start(month), user__in=sales_target_reps(user=user)
    ).values_list("user_id", "metric", "amount")
    return {(user_id, metric): amount for user_id, metric, amount in rows}


def sales_target_totals(
    *, user_ids: list[int], first: dt.date | None, last: dt.date | None
) -> dict[int, dict[str, Decimal]]:
    """Per person, each metric's targets added up over the months from `first`'s to `last`'s
    (None: open-ended). Callers pass only people the viewer may see."""
    qs = SalesTarget.objects.filter(user_id__in=user_ids)
    if first:
        qs = qs.filter(month__gte=month_start(first))
    if last:
        qs = qs.filter(month__lte=last)
    totals: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for row in qs.order_by().values("user_id", "metric").annotate(total=Sum("amount")):
        # SQLite sums decimals without their scale; give every database's answer the same one
        totals[row["user_id"]][row["metric"]] = Decimal(row["total"]).quantize(Decimal("0.01"))
    return dict(totals)
