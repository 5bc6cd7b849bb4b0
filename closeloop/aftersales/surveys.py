"""Satisfaction surveys: settings, sending an invite with a signed link, and the customer's answer.

A detractor (NPS 0–6, CSAT 1–2) gets a service task for the account owner at once; a promoter
(NPS 9–10, and CSAT 5 — the top box is the CSAT customer who would recommend us) gets one
thank-you email asking for a referral. An answer can be changed for seven days; a change is
judged again but never makes a second task or a second thank-you.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from closeloop.accounts.actors import acting_user, require_admin_or_manager
from closeloop.activities.choices import ActivityKind
from closeloop.activities.services import activity_create, activity_schedule, notification_create
from closeloop.core.exceptions import DomainError
from closeloop.core.links import absolute_url
from closeloop.integrations.payloads import survey_answer_data
from closeloop.integrations.services import webhook_event_emit
from closeloop.messaging.html_mail import text_to_html
from closeloop.messaging.merge import (
    merge_check,
    merge_context_for,
    merge_field_names,
    merge_field_register,
    merge_render_email,
)
from closeloop.messaging.services import message_queue

from .choices import SurveyKind
from .models import Survey, SurveyInvite, SurveyResponse

SALT = "closeloop.aftersales.survey"
CHANGE_WINDOW = dt.timedelta(days=7)
MAX_QUESTIONS = 5
QUESTION_KINDS = {"text": "Text", "yesno": "Yes / no", "scale": "Scale 1–5"}
MAX_TEXT_ANSWER = 2000
LINK_FIELD = "survey.link"

merge_field_register(
    LINK_FIELD,
    "Survey link (survey emails only; added at the end when the text does not place it)",
    lambda ctx: None,  # only survey invites know it: they pass it in the context's extras
    example="https://…/s/…/",
)


# --- scores --------------------------------------------------------------------------------


def score_range(kind: str) -> range:
    """The scores a survey of this kind accepts."""
    return range(0, 11) if kind == SurveyKind.NPS else range(1, 6)


def is_detractor(kind: str, score: int) -> bool:
    """NPS 0–6, CSAT 1–2."""
    return score <= 6 if kind == SurveyKind.NPS else score <= 2


def is_promoter(kind: str, score: int) -> bool:
    """NPS 9–10, CSAT 5 (see the module docstring for why CSAT 5 counts)."""
    return score >= 9 if kind == SurveyKind.NPS else score == 5


# --- settings ------------------------------------------------------------------------------


def _clean_questions(questions: list[dict[str, str]]) -> list[dict[str, str]]:
    cleaned: list[dict[str, str]] = []
    for raw in questions:
        label = " ".join((raw.get("label") or "").split())
        if not label:
            continue
        kind = raw.get("kind") or "text"
        if kind not in QUESTION_KINDS:
            raise DomainError(f"{kind!r} is not a kind of question.", field="questions")
        if len(label) > 300:
            raise DomainError("A question can be at most 300 characters long.", field="questions")
        cleaned.append({"key": f"q{len(cleaned) + 1}", "label": label, "kind": kind})
    if len(cleaned) > MAX_QUESTIONS:
        raise DomainError(
            f"A survey can have at most {MAX_QUESTIONS} extra questions.", field="questions"
        )
    return cleaned


@transaction.atomic
def survey_save(
    *,
    actor: Any,
    survey: Survey | None = None,
    name: str,
    kind: str,
    question: str,
    comment_label: str,
    questions: list[dict[str, str]],
    email_subject: str,
    email_body: str,
    is_active: bool = True,
) -> Survey:
    """Create or change a survey (admins and managers); its kind is fixed once it has answers,
    so old scores are never read on a different scale."""
    require_admin_or_manager(actor, "Only admins and managers can set up surveys.")
    name = " ".join((name or "").split())
    if not name:
        raise DomainError("Give the survey a name.", field="name")
    if kind not in SurveyKind.values:
        raise DomainError("Choose CSAT or NPS.", field="kind")
    if (
        Survey.objects.filter(name__iexact=name)
        .exclude(pk=getattr(survey, "pk", None) or 0)
        .exists()
    ):
        raise DomainError(f"A survey named “{name}” exists already.", field="name")
    question = " ".join((question or "").split())
    if not question:
        raise DomainError("Write the score question.", field="question")
    if not (email_subject or "").strip():
        raise DomainError("The email needs a subject.", field="email_subject")
    if not (email_body or "").strip():
        raise DomainError("The email needs a text.", field="email_body")
    merge_check(field="email_subject", text=email_subject)
    merge_check(field="email_body", text=email_body)
    if survey is None:
        survey = Survey(kind=kind)
    elif survey.kind != kind and SurveyResponse.objects.filter(invite__survey=survey).exists():
        raise DomainError(
            "This survey has answers: its kind cannot change. Create a new survey instead.",
            field="kind",
        )
    survey.name = name
    survey.kind = kind
    survey.question = question[:300]
    survey.comment_label = " ".join((comment_label or "").split())[:200]
    survey.questions = _clean_questions(questions)
    survey.email_subject = email_subject.strip()
    survey.email_body = email_body.strip()
    survey.is_active = is_active
    survey.save()
    return survey


# --- links ---------------------------------------------------------------------------------


class LinkInvalid(Exception):
    """A survey link that was tampered with, or names no invite."""


class LinkExpired(Exception):
    """A genuine survey link older than SURVEY_LINK_DAYS."""


def link_max_age() -> int:
    """How long a survey link opens at all (seconds)."""
    return int(getattr(settings, "SURVEY_LINK_DAYS", 30)) * 86400


def invite_token(invite: SurveyInvite) -> str:
    """The signed token of an invite; its own salt, so no other link of the app fits here."""
    return signing.dumps({"i": invite.pk}, salt=SALT, compress=True)


def invite_from_token(token: str) -> SurveyInvite:
    """The invite a token names; LinkInvalid or LinkExpired otherwise."""
    try:
        data = signing.loads(token or "", salt=SALT, max_age=link_max_age())
    except signing.SignatureExpired as exc:
        raise LinkExpired from exc
    except signing.BadSignature as exc:
        raise LinkInvalid from exc
    invite = (
        SurveyInvite.objects.select_related("survey", "contact", "organization", "deal", "owner")
        .filter(pk=int(data.get("i") or 0) if isinstance(data, dict) else 0)
        .first()
    )
    if invite is None:
        raise LinkInvalid
    return invite


def invite_url(invite: SurveyInvite) -> str:
    """The full address of the customer's survey page."""
    return absolute_url(reverse("aftersales_public:survey", args=[invite_token(invite)]))


# --- sending -------------------------------------------------------------------------------


def _account_owner(*, owner: Any, deal: Any, contact: Any) -> Any:
    for candidate in (owner, getattr(deal, "owner", None), getattr(contact, "owner", None)):
        if candidate is not None:
            return candidate
    return None


@transaction.atomic
def survey_invite_send(
    *, actor: Any, survey: Survey, contact: Any, deal: Any = None, owner: Any = None
) -> SurveyInvite:
    """Email a survey to a contact (not marketing: it is about their purchase) with their own
    signed link; the invite and its outbox message are written together."""
    if not survey.is_active:
        raise DomainError(f"The survey “{survey.name}” is switched off.", field="survey")
    if contact is None or contact.is_trashed:
        raise DomainError("Choose a contact to ask.", field="contact")
    email = contact.primary_email
    if not email:
        raise DomainError(f"{contact.full_name} has no email address.", field="contact")
    owner = _account_owner(owner=owner, deal=deal, contact=contact)
    organization = getattr(deal, "organization", None) or contact.organization
    invite = SurveyInvite.objects.create(
        survey=survey,
        contact=contact,
        organization=organization,
        deal=deal,
        owner=owner,
        email=email,
        sent_by=acting_user(actor),
    )
    link = invite_url(invite)
    ctx = merge_context_for(sender=acting_user(actor) or owner, contact=contact, deal=deal)
    ctx.extra[LINK_FIELD] = link
    body = survey.email_body
    if LINK_FIELD not in merge_field_names(body):
        body = f"{body.rstrip()}\n\n{{{{ {LINK_FIELD} }}}}"
    rendered = merge_render_email(ctx, subject=survey.email_subject, text_body=body, html_body="")
    invite.message = message_queue(
        actor=actor,
        to=email,
        subject=rendered.subject,
        text_body=rendered.text_body,
        html_body=f"<p>{text_to_html(rendered.text_body)}</p>",
        contact=contact,
        deal=deal,
        organization=organization,
    )
    invite.save(update_fields=["message", "updated_at"])
    return invite


def survey_step_run(step: Any) -> str:
    """The follow-up plan runner of a `survey` step: send the step's survey to the plan's
    contact about its deal. Sets `step.survey_invite` and `step.message`; the caller saves
    the step in the same transaction, so a rerun finds it done."""
    survey = step.template.survey if step.template_id else None
    if survey is None:
        raise DomainError("This step names no survey.")
    plan = step.plan
    contact = plan.contact or plan.deal.contact
    invite = survey_invite_send(
        actor=None, survey=survey, contact=contact, deal=plan.deal, owner=plan.owner
    )
    step.survey_invite = invite
    step.message = invite.message
    return f"Survey sent to {invite.email}"


# --- answering -----------------------------------------------------------------------------


class SurveyClosed(DomainError):
    """The answer is older than the change window; it stays as it is."""


def _clean_answers(survey: Survey, answers: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for question in survey.questions:
        key, kind = question["key"], question["kind"]
        raw = str(answers.get(key) or "").strip()
        if not raw:
            continue
        if kind == "yesno":
            if raw not in ("yes", "no"):
                raise DomainError("Answer yes or no.", field=key)
            cleaned[key] = raw
        elif kind == "scale":
            if raw not in {"1", "2", "3", "4", "5"}:
                raise DomainError("Choose a number from 1 to 5.", field=key)
            cleaned[key] = int(raw)
        else:
            if len(raw) > MAX_TEXT_ANSWER:
                raise DomainError(
                    f"An answer can be at most {MAX_TEXT_ANSWER:,} characters long.", field=key
                )
            cleaned[key] = raw
    return cleaned


def answer_summary(survey: Survey, response: SurveyResponse) -> str:
    """The answer as plain text lines, for the timeline and the service task."""
    top = 10 if survey.kind == SurveyKind.NPS else 5
    lines = [f"{survey.question} {response.score} of {top}"]
    for question in survey.questions:
        value = response.answers.get(question["key"])
        if value not in (None, ""):
            lines.append(f"{question['label']} {value}")
    if response.comment:
        lines.append(f"Comment: {response.comment}")
    return "\n".join(lines)


def _parse_score(survey: Survey, score: Any) -> int:
    text = str(score if score is not None else "").strip()
    if not re.fullmatch(r"\d{1,2}", text) or int(text) not in score_range(survey.kind):
        allowed = score_range(survey.kind)
        raise DomainError(
            f"Choose a score from {allowed.start} to {allowed.stop - 1}.", field="score"
        )
    return int(text)


def can_change(response: SurveyResponse | None, *, now: dt.datetime | None = None) -> bool:
    """A response can be changed within seven days of the first answer."""
    if response is None:
        return True
    return (now or timezone.now()) < response.answered_at + CHANGE_WINDOW


@transaction.atomic
def survey_answer(
    *, invite: SurveyInvite, score: Any, comment: str = "", answers: dict[str, Any] | None = None
) -> SurveyResponse:
    """Record (or, within seven days, change) the customer's answer and act on it."""
    # the invite row is locked so two submits of one link cannot both create a response
    invite = SurveyInvite.objects.select_for_update().get(pk=invite.pk)
    survey = invite.survey
    value = _parse_score(survey, score)
    comment = (comment or "").strip()
    if len(comment) > MAX_TEXT_ANSWER:
        raise DomainError(
            f"The comment can be at most {MAX_TEXT_ANSWER:,} characters long.", field="comment"
        )
    cleaned = _clean_answers(survey, answers or {})
    now = timezone.now()
    response = SurveyResponse.objects.filter(invite=invite).first()
    label = survey.get_kind_display().split(" ")[0]
    if response is None:
        response = SurveyResponse.objects.create(
            invite=invite, score=value, comment=comment, answers=cleaned, answered_at=now
        )
        subject = f"{label} survey answered: {value}"
    else:
        if not can_change(response, now=now):
            raise SurveyClosed("Your answer can no longer be changed.")
        before = response.score
        response.score, response.comment, response.answers = value, comment, cleaned
        response.changed_at = now
        response.save()
        subject = f"{label} survey answer changed: {before} → {value}"
    activity_create(
        actor=None,
        kind=ActivityKind.NOTE,
        subject=subject,
        body=answer_summary(survey, response),
        deal=invite.deal,
        contact=invite.contact,
        organization=invite.organization,
    )
    if is_detractor(survey.kind, value) and response.service_task_id is None:
        _service_task(invite, response)
    if is_promoter(survey.kind, value) and response.thanked_at is None:
        _thank(invite, response)
    webhook_event_emit(
        name="survey.answered",
        payload=survey_answer_data(invite, response),
        owners=[invite.owner_id],
    )
    return response


def _service_task(invite: SurveyInvite, response: SurveyResponse) -> None:
    """Give the account owner a task due now, and tell them in the app."""
    owner = _account_owner(owner=invite.owner, deal=invite.deal, contact=invite.contact)
    if owner is None or not owner.is_active:
        from closeloop.accounts.choices import Role
        from closeloop.accounts.models import User

        # nobody owns the customer (or they left): an admin must still hear about it
        owner = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("pk").first()
    if owner is None:
        return
    name = invite.contact.full_name
    task = activity_schedule(
        actor=None,
        kind=ActivityKind.TASK,
        subject=f"Unhappy customer: call {name}"[:200],
        body=answer_summary(invite.survey, response),
        starts_at=timezone.now(),
        owner=owner,
        deal=invite.deal,
        contact=invite.contact,
        organization=invite.organization,
        send_invites=False,
    )
    response.service_task = task
    response.save(update_fields=["service_task", "updated_at"])
    url = (
        reverse("pipeline:deal_detail", args=[invite.deal_id])
        if invite.deal_id
        else reverse("people:contact_detail", args=[invite.contact_id])
    )
    notification_create(
        recipient=owner,
        kind="survey_detractor",
        title=f"{name} is unhappy: {invite.survey.name} score {response.score}",
        body=response.comment,
        url=url,
    )


def _thank(invite: SurveyInvite, response: SurveyResponse) -> None:
    """One thank-you email asking for a referral, with the customer's personal link."""
    from closeloop.messaging.compose import sender_address

    from .referrals import referral_url

    owner = _account_owner(owner=invite.owner, deal=invite.deal, contact=invite.contact)
    context = {
        "contact": invite.contact,
        "owner": owner,
        "referral_url": referral_url(invite.contact),
    }
    text = render_to_string("aftersales/surveys/thanks_email.txt", context).strip()
    message_queue(
        actor=None,
        to=invite.email,
        subject="Thank you for your answer",
        text_body=text,
        html_body=f"<p>{text_to_html(text)}</p>",
        from_email=sender_address(owner) if owner is not None else "",
        reply_to=owner.email if owner is not None else "",
        contact=invite.contact,
        deal=invite.deal,
        organization=invite.organization,
    )
    response.thanked_at = timezone.now()
    response.save(update_fields=["thanked_at", "updated_at"])
