"""The targets page's form: one month, and per rep an amount for each target metric."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms

from .choices import TargetMetric


def parse_month(text: str | None) -> dt.date | None:
    """'2026-03' (what <input type="month"> sends) as the first day of that month, else None."""
    try:
        year, month = (text or "").strip().split("-")
        return dt.date(int(year), int(month), 1)
    except ValueError:
        return None


def target_field(user_id: int, metric: str) -> str:
    return f"{user_id}-{metric}"


class TargetsForm(forms.Form):
    """Per rep the three targets of one month; empty means no target."""

    def __init__(
        self,
        *args: Any,
        reps: list[Any],
        current: dict[tuple[int, str], Decimal],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.reps = reps
        for rep in reps:
            for metric in TargetMetric:
                amount = current.get((rep.pk, metric))
                if amount is not None and metric != TargetMetric.WON_VALUE:
                    amount = amount.quantize(Decimal(1))  # a count shows as a whole number
                self.fields[target_field(rep.pk, metric)] = forms.CharField(
                    required=False,
                    max_length=30,
                    label=f"{metric.label} of {rep.display_name}",
                    initial="" if amount is None else str(amount),
                )

    def rows(self) -> list[tuple[Any, list[forms.BoundField]]]:
        """Per rep its three fields, in the order of the columns."""
        return [(rep, [self[target_field(rep.pk, m)] for m in TargetMetric]) for rep in self.reps]

    def amounts(self) -> dict[tuple[Any, str], str]:
        """(rep, metric) → the amount as typed (the service parses and checks it)."""
        return {
            (rep, metric): self.cleaned_data[target_field(rep.pk, metric)]
            for rep in self.reps
            for metric in TargetMetric
        }
