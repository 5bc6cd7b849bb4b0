"""Writes of analytics: the sales targets managers set for their reps (nothing else is stored)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction

from closeloop.core.exceptions import DomainError
from closeloop.core.money import parse_amount

from .choices import TargetMetric
from .filters import month_start
from .models import SalesTarget
from .selectors import sales_target_reps

MAX_AMOUNT = Decimal("999999999999.99")  # what the column holds (14 digits, 2 decimals)
COUNT_METRICS = (TargetMetric.WON_DEALS, TargetMetric.NEW_DEALS)


def _amount(value: Any, metric: str) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        amount = parse_amount(value)
    except (ValueError, TypeError) as exc:
        raise DomainError(f"“{value}” is not an amount.", field="amount") from exc
    if amount < 0:
        raise DomainError("A target cannot be negative.", field="amount")
    if amount > MAX_AMOUNT:
        raise DomainError("This target is too large.", field="amount")
    if metric in COUNT_METRICS and amount != amount.to_integral_value():
        raise DomainError("A number of deals must be a whole number.", field="amount")
    return amount


@transaction.atomic
def sales_target_set(
    *, actor: Any, user: Any, month: dt.date, metric: str, amount: Decimal | int | str | None
) -> SalesTarget | None:
    """Set one person's target for one month and metric; an empty amount removes it. Admins may
    set anyone's, managers those of the other members of their teams, reps none."""
    if not isinstance(month, dt.date):
        raise DomainError("Choose a month.", field="month")
    if metric not in TargetMetric.values:
        raise DomainError("Choose won value, deals won or deals created.", field="metric")
    if user is None or not sales_target_reps(user=actor).filter(pk=user.pk).exists():
        raise DomainError("You cannot set targets for this person.", field="user")
    value = _amount(amount, metric)
    month = month_start(month)
    if value is None:
        SalesTarget.objects.filter(user=user, month=month, metric=metric).delete()
        return None
    target, _ = SalesTarget.objects.update_or_create(
        user=user, month=month, metric=metric, defaults={"amount": value, "set_by": actor}
    )
    return target


@transaction.atomic
def sales_targets_set_month(
    *, actor: Any, month: dt.date, amounts: dict[tuple[Any, str], Any]
) -> int:
    """Set several targets of one month at once, all or none: (user, metric) → amount. A refusal
    names the field as "<user id>-<metric>" and says whose target it was. Returns how many
    changed."""
    current = {
        (t.user_id, t.metric): t.amount
        for t in SalesTarget.objects.filter(
            month=month_start(month) if isinstance(month, dt.date) else None
        )
    }
    changed = 0
    for (user, metric), amount in amounts.items():
        try:
            value = _amount(amount, metric)
            if current.get((user.pk, metric)) == value:
                continue  # an untouched row keeps who set it
            sales_target_set(actor=actor, user=user, month=month, metric=metric, amount=value)
        except DomainError as error:
            if error.field != "amount":
                raise
            label = TargetMetric(metric).label.lower()
            raise DomainError(
                f"{user.display_name}, {label}: {error.message}", field=f"{user.pk}-{metric}"
            ) from error
        changed += 1
    return changed
