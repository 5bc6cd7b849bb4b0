"""The lead page's qualification: scorecard items (htmx), qualify, nurture, discard, reopen."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from closeloop.accounts.choices import Role
from closeloop.accounts.selectors import workspace_settings
from closeloop.core.exceptions import DomainError, StaleEditError
from closeloop.core.http import found_or_404

from . import qualification as services
from .choices import OPEN_LEAD_STATUSES, LeadStatus
from .models import Lead, QualificationCriterion
from .qualification_forms import DisqualifyForm, NurtureForm, QualifyForm, ScorecardItemForm
from .selectors import lead_get


def _lead_or_404(request: HttpRequest, pk: int) -> Lead:
    return found_or_404(lead_get(user=request.user, pk=pk))


def _item_form(lead: Lead, row: services.ScorecardRow) -> ScorecardItemForm:
    item = row.item
    initial: dict[str, Any] = {"status": row.status, "version": lead.version}
    if item is not None:
        initial.update(
            note=item.note,
            budget_min=item.budget_min,
            budget_max=item.budget_max,
            budget_currency=item.budget_currency,
            decision_maker=item.decision_maker,
            contact_is_decision_maker=item.contact_is_decision_maker,
            buy_by=item.buy_by,
        )
    return ScorecardItemForm(prefix=f"c{row.criterion.pk}", initial=initial)


def scorecard_context(
    lead: Lead, user: Any, errors: dict[int, ScorecardItemForm] | None = None
) -> dict[str, Any]:
    """What the scorecard panel and the outcome forms of the lead page need."""
    rows = services.lead_scorecard(lead)
    threshold = workspace_settings().qualify_threshold
    errors = errors or {}
    below = lead.score < threshold
    return {
        "scorecard": [(row, errors.get(row.criterion.pk) or _item_form(lead, row)) for row in rows],
        "gaps": [row for row in rows if row.status != "yes"],
        "threshold": threshold,
        "below_threshold": below,
        "can_qualify": not below or user.role != Role.REP,
        "is_open": lead.status in OPEN_LEAD_STATUSES,
        "can_reopen": lead.status in (LeadStatus.NURTURING, LeadStatus.DISQUALIFIED),
        "nurture_form": NurtureForm(),
        "disqualify_form": DisqualifyForm(),
    }


@login_required
@require_POST
def lead_scorecard_save(request: HttpRequest, pk: int, criterion_pk: int) -> HttpResponse:
    """Save one scorecard item; htmx gets the panel back with the new score."""
    lead = _lead_or_404(request, pk)
    criterion = found_or_404(QualificationCriterion.objects.filter(pk=criterion_pk).first())
    form = ScorecardItemForm(request.POST, prefix=f"c{criterion.pk}")
    errors: dict[int, ScorecardItemForm] = {}
    if form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            services.scorecard_update(
                actor=request.user, lead=lead, criterion=criterion, expected_version=version, **data
            )
        except StaleEditError as error:
            # the answer as the user gave it, now based on the stored version: saving it again
            # is a decision taken knowing the other change
            posted = request.POST.copy()
            posted[form["version"].html_name] = str(error.record.version)
            form = ScorecardItemForm(posted, prefix=f"c{criterion.pk}")
            form.is_valid()
            form.add_error(None, error.message)
            errors[criterion.pk] = form
        except DomainError as error:
            form.add_domain_error(error)
            errors[criterion.pk] = form
    else:
        errors[criterion.pk] = form
    lead = _lead_or_404(request, pk)
    if getattr(request, "htmx", False):
        return render(
            request,
            "leads/lead_detail.html#scorecard",
            {"lead": lead, **scorecard_context(lead, request.user, errors)},
        )
    if errors:
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    else:
        messages.success(request, f"{criterion.name} saved. Score: {lead.score}.")
    return redirect("leads:lead_detail", pk=lead.pk)


@login_required
def lead_qualify(request: HttpRequest, pk: int) -> HttpResponse:
    """Turn the lead into a deal; land on the deal."""
    lead = _lead_or_404(request, pk)
    threshold = workspace_settings().qualify_threshold
    below = lead.score < threshold
    is_rep = request.user.role == Role.REP  # type: ignore[union-attr]
    form = QualifyForm(
        request.POST or None, lead=lead, user=request.user, ask_override=below and not is_rep
    )
    if request.method == "POST" and form.is_valid():
        try:
            deal = services.lead_qualify(actor=request.user, lead=lead, **form.outcome_kwargs())
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(
                request, f"“{lead.full_name}” is sales-qualified: this is the new deal."
            )
            return redirect("pipeline:deal_detail", pk=deal.pk)
    context = {
        "lead": lead,
        "form": form,
        "threshold": threshold,
        "below_threshold": below,
        "is_rep": is_rep,
        "is_open": lead.status in OPEN_LEAD_STATUSES,
        "gaps": [r for r in services.lead_scorecard(lead) if r.status != "yes"],
        "nav": "leads",
    }
    return render(request, "leads/lead_qualify.html", context)


def _refused(request: HttpRequest, form: Any) -> None:
    messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))


@login_required
@require_POST
def lead_nurture(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _lead_or_404(request, pk)
    form = NurtureForm(request.POST)
    if form.is_valid():
        try:
            services.lead_nurture(actor=request.user, lead=lead, **form.cleaned_data)
        except DomainError as error:
            form.add_domain_error(error)
    if form.errors:
        _refused(request, form)
    else:
        until = form.cleaned_data["until"]
        messages.success(
            request, f"“{lead.full_name}” is nurtured: back in the inbox on {until:%d %b %Y}."
        )
    return redirect("leads:lead_detail", pk=lead.pk)


@login_required
@require_POST
def lead_disqualify(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _lead_or_404(request, pk)
    form = DisqualifyForm(request.POST)
    if form.is_valid():
        try:
            services.lead_disqualify(actor=request.user, lead=lead, **form.cleaned_data)
        except DomainError as error:
            form.add_domain_error(error)
    if form.errors:
        _refused(request, form)
    else:
        messages.success(request, f"“{lead.full_name}” is discarded. You can reopen it.")
    return redirect("leads:lead_detail", pk=lead.pk)


@login_required
@require_POST
def lead_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _lead_or_404(request, pk)
    try:
        lead = services.lead_reopen(actor=request.user, lead=lead)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"“{lead.full_name}” is open again.")
    return redirect("leads:lead_detail", pk=lead.pk)
