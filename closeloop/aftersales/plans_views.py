"""Pages of follow-up plans: Settings › Follow-up plans, and the buttons on a customer's plans."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from closeloop.core.exceptions import DomainError
from closeloop.core.http import found_or_404
from closeloop.pipeline.settings_views import setup_role_required

from . import plans as services
from .models import PlanStepTemplate, PlanTemplate
from .plans_forms import DeliveryForm, MoveForm, PlanTemplateForm, StepForm
from .plans_selectors import plan_step_visible, plan_template_list, plan_visible

STEP_FIELDS = (
    "kind",
    "title",
    "offset_days",
    "anchor",
    "body",
    "coupon_kind",
    "coupon_value",
    "coupon_valid_days",
)


def _form_error(form: PlanTemplateForm | StepForm, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _template(pk: int) -> PlanTemplate:
    return found_or_404(PlanTemplate.objects.filter(pk=pk).first())


def _step_template(pk: int) -> PlanStepTemplate:
    return found_or_404(PlanStepTemplate.objects.select_related("plan").filter(pk=pk).first())


def _edit_url(template: PlanTemplate) -> str:
    return reverse("settings:plans:edit", args=[template.pk])


def _render_list(request: HttpRequest, form: PlanTemplateForm | None = None) -> HttpResponse:
    context = {
        "nav": "settings",
        "section": "plans",
        "templates": plan_template_list(),
        "form": form or PlanTemplateForm(),
    }
    return render(request, "aftersales/plans/settings_list.html", context)


def _render_edit(
    request: HttpRequest,
    template: PlanTemplate,
    *,
    form: PlanTemplateForm | None = None,
    step_form: StepForm | None = None,
    editing_step: PlanStepTemplate | None = None,
) -> HttpResponse:
    if form is None:
        form = PlanTemplateForm(
            initial={
                "name": template.name,
                "description": template.description,
                "pipeline": template.pipeline_id,
                "product": template.product_id,
            }
        )
    context = {
        "nav": "settings",
        "section": "plans",
        "template": template,
        "steps": list(
            template.steps.select_related("email_template", "survey").order_by("position", "pk")
        ),
        "form": form,
        "step_form": step_form or StepForm(auto_id="id_step_%s"),
        "editing_step": editing_step,
    }
    return render(request, "aftersales/plans/settings_edit.html", context)


@setup_role_required
@require_GET
def plan_templates(request: HttpRequest) -> HttpResponse:
    """Every plan template with its steps, and a form to add one."""
    return _render_list(request)


@setup_role_required
@require_POST
def plan_template_create(request: HttpRequest) -> HttpResponse:
    form = PlanTemplateForm(request.POST)
    if form.is_valid():
        try:
            template = services.plan_template_create(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, f"Plan “{template.name}” added: now give it its steps.")
            return redirect(_edit_url(template))
    return _render_list(request, form)


@setup_role_required
@require_http_methods(["GET", "POST"])
def plan_template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """One template: its name and attachment, its steps in order, and a form to add a step."""
    template = _template(pk)
    if request.method == "GET":
        return _render_edit(request, template)
    form = PlanTemplateForm(request.POST)
    if form.is_valid():
        try:
            services.plan_template_update(
                actor=request.user, template=template, **form.cleaned_data
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, f"Plan “{template.name}” saved.")
            return redirect(_edit_url(template))
    return _render_edit(request, _template(pk), form=form)


@setup_role_required
@require_POST
def plan_template_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    """Switch a template on or off."""
    template = _template(pk)
    active = request.POST.get("is_active") == "true"
    services.plan_template_set_active(actor=request.user, template=template, is_active=active)
    state = "on: it starts with each win" if active else "off: it starts no new plans"
    messages.success(request, f"Plan “{template.name}” is {state}.")
    return redirect("settings:plans:list")


@setup_role_required
@require_POST
def plan_step_add(request: HttpRequest, pk: int) -> HttpResponse:
    template = _template(pk)
    form = StepForm(request.POST, auto_id="id_step_%s")
    if form.is_valid():
        try:
            step = services.plan_step_template_add(
                actor=request.user, template=template, step=form.step_input()
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, f"Step “{step.title}” added at the end.")
            return redirect(_edit_url(template))
    return _render_edit(request, template, step_form=form)


@setup_role_required
@require_http_methods(["GET", "POST"])
def plan_step_edit(request: HttpRequest, pk: int) -> HttpResponse:
    step = _step_template(pk)
    if request.method == "POST":
        form = StepForm(request.POST, auto_id="id_step_%s")
        if form.is_valid():
            try:
                services.plan_step_template_update(
                    actor=request.user, step_template=step, step=form.step_input()
                )
            except DomainError as error:
                _form_error(form, error)
            else:
                messages.success(request, f"Step “{form.cleaned_data['title']}” saved.")
                return redirect(_edit_url(step.plan))
    else:
        initial = {name: getattr(step, name) for name in STEP_FIELDS}
        initial |= {"email_template": step.email_template_id, "survey": step.survey_id}
        form = StepForm(initial=initial, auto_id="id_step_%s")
    return _render_edit(request, step.plan, step_form=form, editing_step=step)


@setup_role_required
@require_POST
def plan_step_move(request: HttpRequest, pk: int) -> HttpResponse:
    step = _step_template(pk)
    form = MoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Move a step up or down.")
    else:
        direction = form.cleaned_data["direction"]
        services.plan_step_template_move(
            actor=request.user, step_template=step, direction=direction
        )
        messages.success(request, f"Step “{step.title}” moved {direction}.")
    return redirect(_edit_url(step.plan))


@setup_role_required
@require_POST
def plan_step_delete(request: HttpRequest, pk: int) -> HttpResponse:
    step = _step_template(pk)
    cancelled = services.plan_step_template_delete(actor=request.user, step_template=step)
    extra = f"; {cancelled} waiting in running plans were cancelled" if cancelled else ""
    messages.success(request, f"Step “{step.title}” removed{extra}.")
    return redirect(_edit_url(step.plan))


# --- on the customer's page -------------------------------------------------------------


def _back(request: HttpRequest, deal_id: int) -> HttpResponse:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("pipeline:deal_detail", args=[deal_id])
    return redirect(target)


@login_required
@require_POST
def plan_step_skip(request: HttpRequest, pk: int) -> HttpResponse:
    """Skip a waiting step of a plan the user may see."""
    step = found_or_404(plan_step_visible(user=request.user, pk=pk))
    try:
        services.plan_step_skip(actor=request.user, step=step)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"“{step.title}” skipped; the rest of the plan goes on.")
    return _back(request, step.plan.deal_id)


@login_required
@require_POST
def plan_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel a running plan the user may see: nothing more is sent."""
    plan = found_or_404(plan_visible(user=request.user, pk=pk))
    try:
        services.plan_cancel(actor=request.user, plan=plan)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"“{plan.name}” cancelled: its waiting steps will not run.")
    return _back(request, plan.deal_id)


@login_required
@require_POST
def plan_delivery(request: HttpRequest, pk: int) -> HttpResponse:
    """Set the delivery date: steps counted from it get their day."""
    plan = found_or_404(plan_visible(user=request.user, pk=pk))
    form = DeliveryForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the delivery date as a date (YYYY-MM-DD).")
        return _back(request, plan.deal_id)
    try:
        services.plan_delivery_set(
            actor=request.user, plan=plan, date=form.cleaned_data["delivery_date"]
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        date = form.cleaned_data["delivery_date"]
        messages.success(request, f"Delivery on {date:%d %b %Y}: its steps are scheduled.")
    return _back(request, plan.deal_id)
