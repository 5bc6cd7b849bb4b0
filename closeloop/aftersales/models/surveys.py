from __future__ import annotations

from django.conf import settings
from django.db import models

from closeloop.core.models import TimestampedModel

from ..choices import SurveyKind


class Survey(TimestampedModel):
    """A satisfaction survey: one score question (CSAT 1–5 or NPS 0–10), an optional comment and
    up to five extra questions (`questions`: [{"key", "label", "kind": text|yesno|scale}])."""

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=4, choices=SurveyKind.choices)
    question = models.CharField(max_length=300)
    comment_label = models.CharField(max_length=200, default="Anything you would like to add?")
    questions = models.JSONField(default=list, blank=True)
    email_subject = models.CharField(max_length=300)
    email_body = models.TextField(help_text="merge fields allowed; the survey link is added")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SurveyInvite(TimestampedModel):
    """A survey sent to one customer contact (about a deal), answered through a signed link."""

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="invites")
    contact = models.ForeignKey(
        "people.Contact", on_delete=models.CASCADE, related_name="survey_invites"
    )
    organization = models.ForeignKey(
        "people.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deal = models.ForeignKey(
        "pipeline.Deal", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="the account owner, who gets the service task for a detractor",
    )
    email = models.EmailField()
    message = models.ForeignKey(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.survey} to {self.email}"


class SurveyResponse(TimestampedModel):
    """The customer's answer; it can be changed through the same link for seven days."""

    invite = models.OneToOneField(SurveyInvite, on_delete=models.CASCADE, related_name="response")
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    answers = models.JSONField(default=dict, blank=True)
    answered_at = models.DateTimeField()
    changed_at = models.DateTimeField(null=True, blank=True)
    service_task = models.ForeignKey(
        "activities.Activity", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    thanked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.invite}: {self.score}"
