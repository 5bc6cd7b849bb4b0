"""Settings › Assignment rules: list in order, add, edit, switch on/off, move, delete, preview."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from closeloop.core.exceptions import DomainError
from closeloop.core.http import found_or_404
from closeloop.pipeline.settings_views import setup_role_required

from . import assignment
from .assignment_forms import AssignmentRuleForm, RuleMoveForm
from .models import AssignmentRule


def _rule(pk: int) -> AssignmentRule:
    return found_or_404(AssignmentRule.objects.filter(pk=pk).first())


def _form_error(form: AssignmentRuleForm, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _render(
    request: HttpRequest, *, form: AssignmentRuleForm | None = None, editing: int | None = None
) -> HttpResponse:
    rules = assignment.assignment_rule_list()
    preview = assignment.assignment_preview(rules=[r for r in rules if r.is_active])
    context = {
        "nav": "settings",
        "section": "assignment_rules",
        "rows": [(rule, preview.get(rule.pk)) for rule in rules],
        "form": form or AssignmentRuleForm(initial={"is_active": True}),
        "editing": editing,
    }
    return render(request, "settings/assignment_rules.html", context)


@setup_role_required
@require_GET
def assignment_rules(request: HttpRequest) -> HttpResponse:
    """The rules in the order they are tried, each with who would get the next lead."""
    return _render(request)


@setup_role_required
@require_POST
def assignment_rule_create(request: HttpRequest) -> HttpResponse:
    form = AssignmentRuleForm(request.POST)
    if form.is_valid():
        try:
            rule = assignment.assignment_rule_create(actor=request.user, data=form.rule_input())
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, f"Rule “{rule.name}” added at the end of the list.")
            return redirect("settings:assignment_rules")
    return _render(request, form=form)


@setup_role_required
@require_http_methods(["GET", "POST"])
def assignment_rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule(pk)
    if request.method == "POST":
        form = AssignmentRuleForm(request.POST)
        if form.is_valid():
            try:
                assignment.assignment_rule_update(
                    actor=request.user, rule=rule, data=form.rule_input()
                )
            except DomainError as error:
                _form_error(form, error)
            else:
                messages.success(request, f"Rule “{form.cleaned_data['name']}” saved.")
                return redirect("settings:assignment_rules")
    else:
        fields = ("name", "country", "cap_per_rep", "is_active")
        initial = {name: getattr(rule, name) for name in fields}
        initial |= {name: getattr(rule, f"{name}_id") for name in ("source", "campaign", "team")}
        initial["user"] = rule.user_id
        form = AssignmentRuleForm(initial=initial)
    return _render(request, form=form, editing=rule.pk)


@setup_role_required
@require_POST
def assignment_rule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    """Switch a rule on or off."""
    rule = _rule(pk)
    active = request.POST.get("is_active") == "true"
    assignment.assignment_rule_set_active(actor=request.user, rule=rule, is_active=active)
    state = "active: it assigns new leads" if active else "off: it assigns nothing"
    messages.success(request, f"Rule “{rule.name}” is {state}.")
    return redirect("settings:assignment_rules")


@setup_role_required
@require_POST
def assignment_rule_move(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule(pk)
    form = RuleMoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Move a rule up or down.")
    else:
        direction = form.cleaned_data["direction"]
        assignment.assignment_rule_reorder(actor=request.user, rule=rule, direction=direction)
        messages.success(request, f"Rule “{rule.name}” moved {direction}.")
    return redirect("settings:assignment_rules")


@setup_role_required
@require_POST
def assignment_rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule(pk)
    assignment.assignment_rule_delete(actor=request.user, rule=rule)
    messages.success(request, f"Rule “{rule.name}” deleted; leads it assigned keep their owners.")
    return redirect("settings:assignment_rules")
