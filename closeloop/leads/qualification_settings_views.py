"""Settings → Qualification (admins): weights, threshold, custom criteria, discard reasons."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from closeloop.accounts.selectors import workspace_settings
from closeloop.core.exceptions import DomainError
from closeloop.core.http import found_or_404

from . import qualification as services
from .models import DisqualifyReason, QualificationCriterion
from .qualification_forms import CriterionForm, NamedForm


def _number(value: Any) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


def _pk(request: HttpRequest) -> int:
    return _number(request.POST.get("pk")) or 0


def _errors(form: Any) -> str:
    return " ".join(f"{name}: {e}" for name, errs in form.errors.items() for e in errs)


def _post(request: HttpRequest) -> str:
    """Do what the POST's `action` asks through one service; return the message to show."""
    data, actor, action = request.POST, request.user, request.POST.get("action", "")
    if action == "weights":
        criteria = QualificationCriterion.objects.all()
        weights = {}
        for c in criteria:
            weight = _number(data.get(f"weight_{c.pk}"))
            if weight is None:
                raise DomainError(f"The weight of “{c.name}” must be a whole number.")
            weights[c.pk] = weight
        threshold = _number(data.get("threshold"))
        if threshold is None:
            raise DomainError("The threshold must be a whole number.", field="threshold")
        services.qualification_settings_update(actor=actor, weights=weights, threshold=threshold)
        return "Weights and threshold saved; open leads' scores are updated."
    if action in ("criterion_add", "criterion_update"):
        form = CriterionForm(data)
        if not form.is_valid():
            raise DomainError(_errors(form))
        if action == "criterion_add":
            c = services.criterion_create(actor=actor, **form.cleaned_data)
            return f"“{c.name}” is on every lead's scorecard now."
        criterion = found_or_404(QualificationCriterion.objects.filter(pk=_pk(request)).first())
        c = services.criterion_update(
            actor=actor,
            criterion=criterion,
            is_active=data.get("is_active") == "true",
            **form.cleaned_data,
        )
        return f"“{c.name}” saved{'' if c.is_active else ' (inactive: not scored)'}."
    if action == "criterion_delete":
        criterion = found_or_404(QualificationCriterion.objects.filter(pk=_pk(request)).first())
        services.criterion_delete(actor=actor, criterion=criterion)
        return f"“{criterion.name}” deleted."
    if action in ("reason_add", "reason_update"):
        named = NamedForm(data)
        if not named.is_valid():
            raise DomainError(_errors(named))
        if action == "reason_add":
            r = services.disqualify_reason_create(actor=actor, name=named.cleaned_data["name"])
            return f"“{r.name}” added to the discard reasons."
        reason = found_or_404(DisqualifyReason.objects.filter(pk=_pk(request)).first())
        r = services.disqualify_reason_update(
            actor=actor,
            reason=reason,
            name=named.cleaned_data["name"],
            is_active=named.cleaned_data["is_active"],
        )
        return f"“{r.name}” saved{'' if r.is_active else ' (retired: no longer offered)'}."
    raise DomainError("Unknown action.")


@login_required
def qualification_settings(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not user.is_admin:
        raise PermissionDenied("Only admins can change the scorecard.")
    if request.method == "POST":
        try:
            messages.success(request, _post(request))
        except DomainError as error:
            messages.error(request, error.message)
        return redirect("settings:qualification")
    context = {
        "criteria": QualificationCriterion.objects.all(),
        "reasons": DisqualifyReason.objects.all(),
        "threshold": workspace_settings().qualify_threshold,
        "add_form": CriterionForm(),
        "section": "qualification",
        "nav": "settings",
    }
    return render(request, "settings/qualification.html", context)
