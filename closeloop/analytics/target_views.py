"""The targets page: admins and managers set each rep's monthly targets (reps get 403)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from closeloop.core.exceptions import DomainError
from closeloop.core.money import base_currency

from . import services
from .choices import TargetMetric
from .filters import month_start
from .forms import TargetsForm, parse_month
from .selectors import sales_target_month, sales_target_reps


@login_required
@require_http_methods(["GET", "POST"])
def targets(request: HttpRequest) -> HttpResponse:
    """One month's targets (?month=YYYY-MM, else this month) for the reps the user may set."""
    user: Any = request.user
    if not (user.is_admin or user.is_manager):
        raise PermissionDenied("Only admins and managers set targets.")
    params = request.POST if request.method == "POST" else request.GET
    month = parse_month(params.get("month")) or month_start(timezone.localdate())
    reps = list(sales_target_reps(user=user))
    current = sales_target_month(user=user, month=month)
    if request.method == "POST":
        form = TargetsForm(request.POST, reps=reps, current=current)
        if form.is_valid():
            try:
                changed = services.sales_targets_set_month(
                    actor=user, month=month, amounts=form.amounts()
                )
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, f"Targets of {month:%B %Y} saved ({changed} changed).")
                return redirect(f"{reverse('analytics:targets')}?month={month:%Y-%m}")
    else:
        form = TargetsForm(reps=reps, current=current)
    context = {
        "nav": "analytics",
        "month": month,
        "form": form,
        "metrics": TargetMetric.choices,
        "currency": base_currency(),
    }
    return render(request, "analytics/targets.html", context)
