"""Forms of the pipeline settings pages: they parse input; the setup services hold the rules."""

from __future__ import annotations

from typing import Any

from django import forms

from .models import Stage


class PipelineCreateForm(forms.Form):
    name = forms.CharField(max_length=120, label="Pipeline name")


class PipelineForm(forms.Form):
    name = forms.CharField(max_length=120)
    is_default = forms.BooleanField(
        required=False, label="Default pipeline",
        help_text="New deals and the board start in the default pipeline.",
    )  # fmt: skip


class PipelineAutomationForm(forms.Form):
    """What proposals do to the pipeline's deals; the stages offered are this pipeline's own
    (given as a list the page has already read, so the two menus cost no query)."""

    win_on_acceptance = forms.BooleanField(
        required=False, label="Win the deal when the customer accepts a proposal",
        help_text="The deal's value becomes the accepted proposal's one-off total.",
    )  # fmt: skip
    proposal_stage = forms.TypedChoiceField(
        coerce=int, empty_value=None, required=False,
        label="Sending the first proposal moves the deal to",
    )  # fmt: skip
    negotiation_stage = forms.TypedChoiceField(
        coerce=int, empty_value=None, required=False,
        label="Sending a revised version moves the deal to",
        help_text="Deals only move forward, never back.",
    )  # fmt: skip

    def __init__(self, *args: Any, stages: list[Stage], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stages = {stage.pk: stage for stage in stages}
        choices = [("", "Don't move"), *((stage.pk, stage.name) for stage in stages)]
        self.fields["proposal_stage"].choices = choices
        self.fields["negotiation_stage"].choices = choices

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("proposal_stage", "negotiation_stage"):
            if name in data:
                data[name] = self.stages.get(data[name]) if data[name] else None
        return data

    @classmethod
    def initial_for(cls, pipeline: Any) -> dict[str, Any]:
        return {
            "win_on_acceptance": pipeline.win_on_acceptance,
            "proposal_stage": pipeline.proposal_stage_id,
            "negotiation_stage": pipeline.negotiation_stage_id,
        }


class StageForm(forms.Form):
    """Probability and days to rot are only parsed here; their limits are the service's rules."""

    name = forms.CharField(max_length=120)
    probability = forms.IntegerField(
        label="Win probability (%)", initial=0,
        widget=forms.NumberInput(attrs={"min": 0, "max": 100}),
    )  # fmt: skip
    rot_days = forms.IntegerField(
        label="Days to rot", required=False, widget=forms.NumberInput(attrs={"min": 1}),
        help_text="A deal idle this many days in the stage is rotting. Empty: never.",
    )  # fmt: skip
    is_optional = forms.BooleanField(
        label="Optional stage", required=False, help_text="Deals may skip it."
    )


class StageDeleteForm(forms.Form):
    """Where the deals of a stage go before it is deleted (only needed when it holds deals)."""

    move_to = forms.ModelChoiceField(
        queryset=Stage.objects.none(), required=False, empty_label="Choose a stage…",
        label="Move its deals to",
    )  # fmt: skip

    def __init__(self, *args: Any, stage: Stage, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["move_to"].queryset = stage.pipeline.stages.exclude(pk=stage.pk).order_by(
            "position", "pk"
        )


class StageMoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")])


class LostReasonCreateForm(forms.Form):
    name = forms.CharField(max_length=120, label="Reason")


class LostReasonForm(forms.Form):
    """Rename a reason, or retire/reactivate it (the buttons send the current name back)."""

    name = forms.CharField(max_length=120)
    is_active = forms.BooleanField(required=False)
