"""Settings pages for pipelines, stages and lost reasons (admins and managers only)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from closeloop.core.exceptions import DomainError
from closeloop.core.http import found_or_404

from . import services
from .models import LostReason, Pipeline, Stage
from .selectors import lost_reason_list_with_deal_counts, pipeline_list, stage_list_with_deal_counts
from .settings_forms import (
    LostReasonCreateForm,
    LostReasonForm,
    PipelineAutomationForm,
    PipelineCreateForm,
    PipelineForm,
    StageDeleteForm,
    StageForm,
    StageMoveForm,
)

View = Callable[..., HttpResponse]


def setup_role_required(view: View) -> View:
    """Only admins and managers may see or change the sales process; others get 403."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user: Any = request.user
        if not (user.is_admin or user.is_manager):
            raise PermissionDenied("Only admins and managers can change the sales process.")
        return view(request, *args, **kwargs)

    return wrapped


def _form_error(form: Form, error: DomainError) -> None:
    """Show a service's refusal on the field it names, or above the form."""
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _pipeline_url(pipeline: Pipeline) -> str:
    return f"{reverse('settings:pipelines')}?pipeline={pipeline.pk}"


def _render_pipelines(
    request: HttpRequest, pipeline: Pipeline | None, **forms: Form
) -> HttpResponse:
    stages = list(stage_list_with_deal_counts(pipeline)) if pipeline else []
    context: dict[str, Any] = {
        "nav": "settings", "section": "pipelines", "pipelines": pipeline_list(),
        "pipeline": pipeline, "stages": stages,
        "pipeline_form": forms.get("pipeline_form") or (
            PipelineForm(initial={"name": pipeline.name, "is_default": pipeline.is_default})
            if pipeline else None
        ),
        "stage_form": forms.get("stage_form") or StageForm(auto_id="id_stage_%s"),
        "create_form": forms.get("create_form") or PipelineCreateForm(auto_id="id_new_%s"),
        "automation_form": forms.get("automation_form") or (
            PipelineAutomationForm(
                initial=PipelineAutomationForm.initial_for(pipeline), stages=stages,
                auto_id="id_auto_%s",
            ) if pipeline else None
        ),
    }  # fmt: skip
    return render(request, "settings/pipelines.html", context)


@setup_role_required
@require_GET
def pipelines(request: HttpRequest) -> HttpResponse:
    """One pipeline (?pipeline=id, else the default) with its stages, and forms to change them."""
    pipeline_id = request.GET.get("pipeline", "")
    candidates = pipeline_list()
    pipeline = (
        candidates.filter(pk=int(pipeline_id)).first() if pipeline_id.isdigit() else None
    ) or candidates.first()
    return _render_pipelines(request, pipeline)


@setup_role_required
@require_POST
def pipeline_create(request: HttpRequest) -> HttpResponse:
    form = PipelineCreateForm(request.POST, auto_id="id_new_%s")
    if form.is_valid():
        try:
            pipeline = services.pipeline_create(actor=request.user, name=form.cleaned_data["name"])
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, f"Pipeline “{pipeline.name}” added with the default stages.")
            return redirect(_pipeline_url(pipeline))
    return _render_pipelines(request, pipeline_list().first(), create_form=form)


@setup_role_required
@require_POST
def pipeline_update(request: HttpRequest, pk: int) -> HttpResponse:
    pipeline = found_or_404(Pipeline.objects.filter(pk=pk).first())
    form = PipelineForm(request.POST)
    if form.is_valid():
        try:
            services.pipeline_update(
                actor=request.user, pipeline=pipeline, name=form.cleaned_data["name"],
                is_default=form.cleaned_data["is_default"],
            )  # fmt: skip
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, f"Pipeline “{pipeline.name}” saved.")
            return redirect(_pipeline_url(pipeline))
    return _render_pipelines(request, pipeline, pipeline_form=form)


@setup_role_required
@require_POST
def pipeline_automation(request: HttpRequest, pk: int) -> HttpResponse:
    """The proposal automation settings of one pipeline."""
    pipeline = found_or_404(Pipeline.objects.filter(pk=pk).first())
    form = PipelineAutomationForm(
        request.POST, stages=list(pipeline.stages.order_by("position", "pk")), auto_id="id_auto_%s"
    )
    if form.is_valid():
        try:
            services.pipeline_automation_set(
                actor=request.user, pipeline=pipeline, **form.cleaned_data
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, f"Proposal automation of “{pipeline.name}” saved.")
            return redirect(_pipeline_url(pipeline))
    return _render_pipelines(request, pipeline, automation_form=form)


@setup_role_required
@require_POST
def stage_create(request: HttpRequest, pk: int) -> HttpResponse:
    pipeline = found_or_404(Pipeline.objects.filter(pk=pk).first())
    form = StageForm(request.POST, auto_id="id_stage_%s")
    if form.is_valid():
        try:
            stage = services.stage_create(
                actor=request.user, pipeline=pipeline, **form.cleaned_data
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, f"Stage “{stage.name}” added to {pipeline.name}.")
            return redirect(_pipeline_url(pipeline))
    return _render_pipelines(request, pipeline, stage_form=form)


@setup_role_required
def stage_edit(request: HttpRequest, pk: int) -> HttpResponse:
    stage = found_or_404(Stage.objects.select_related("pipeline").filter(pk=pk).first())
    initial = {"name": stage.name, "probability": stage.probability,
               "rot_days": stage.rot_days, "is_optional": stage.is_optional}  # fmt: skip
    form = StageForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.stage_update(actor=request.user, stage=stage, **form.cleaned_data)
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, f"Stage “{stage.name}” saved.")
            return redirect(_pipeline_url(stage.pipeline))
    return render(request, "settings/stage_form.html", {
        "nav": "settings", "section": "pipelines", "stage": stage, "form": form,
    })  # fmt: skip


@setup_role_required
@require_POST
def stage_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Swap a stage with its neighbour above or below (the up/down buttons)."""
    stage = found_or_404(Stage.objects.select_related("pipeline").filter(pk=pk).first())
    form = StageMoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Move a stage up or down.")
        return redirect(_pipeline_url(stage.pipeline))
    direction = form.cleaned_data["direction"]
    ids = list(stage.pipeline.stages.order_by("position", "pk").values_list("pk", flat=True))
    index = ids.index(stage.pk)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ids):  # the first stage cannot go up, the last cannot go down
        ids[index], ids[other] = ids[other], ids[index]
        try:
            services.stage_reorder(actor=request.user, pipeline=stage.pipeline, stage_ids=ids)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Stage “{stage.name}” moved {direction}.")
    return redirect(_pipeline_url(stage.pipeline))


@setup_role_required
@require_POST
def stage_delete(request: HttpRequest, pk: int) -> HttpResponse:
    stage = found_or_404(Stage.objects.select_related("pipeline").filter(pk=pk).first())
    pipeline = stage.pipeline
    form = StageDeleteForm(request.POST, stage=stage)
    if not form.is_valid():
        messages.error(request, "Choose one of the pipeline's other stages to move the deals to.")
        return redirect(_pipeline_url(pipeline))
    try:
        moved = services.stage_delete(
            actor=request.user, stage=stage, move_to=form.cleaned_data["move_to"]
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        where = f" and its {moved} deal(s) moved to {form.cleaned_data['move_to']}" if moved else ""
        messages.success(request, f"Stage “{stage.name}” deleted{where}.")
    return redirect(_pipeline_url(pipeline))


def _render_lost_reasons(request: HttpRequest, *, form: Form | None = None) -> HttpResponse:
    return render(request, "settings/lost_reasons.html", {
        "nav": "settings", "section": "lost_reasons",
        "reasons": lost_reason_list_with_deal_counts(),
        "form": form or LostReasonCreateForm(),
    })  # fmt: skip


@setup_role_required
@require_GET
def lost_reasons(request: HttpRequest) -> HttpResponse:
    """Every reason, active and retired, with how many deals were lost for it."""
    return _render_lost_reasons(request)


@setup_role_required
@require_POST
def lost_reason_create(request: HttpRequest) -> HttpResponse:
    form = LostReasonCreateForm(request.POST)
    if form.is_valid():
        try:
            reason = services.lost_reason_create(actor=request.user, name=form.cleaned_data["name"])
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, f"“{reason.name}” added to the lost reasons.")
            return redirect("settings:lost_reasons")
    return _render_lost_reasons(request, form=form)


@setup_role_required
@require_POST
def lost_reason_update(request: HttpRequest, pk: int) -> HttpResponse:
    """Rename a reason, or retire/reactivate it."""
    reason = found_or_404(LostReason.objects.filter(pk=pk).first())
    was_active = reason.is_active
    form = LostReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A reason needs a name.")
        return redirect("settings:lost_reasons")
    try:
        reason = services.lost_reason_update(actor=request.user, reason=reason, **form.cleaned_data)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if was_active and not reason.is_active:
            messages.success(request, f"“{reason.name}” is retired: it is no longer offered.")
        elif reason.is_active and not was_active:
            messages.success(request, f"“{reason.name}” is offered again.")
        else:
            messages.success(request, f"Reason “{reason.name}” saved.")
    return redirect("settings:lost_reasons")
