"""What happens to a web form submission: flood and bot checks, validation, lead or note."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from closeloop.activities.choices import ActivityKind
from closeloop.activities.models import Activity
from closeloop.activities.services import activity_create
from closeloop.aftersales.referrals import referral_record_for_lead
from closeloop.core.exceptions import DomainError
from closeloop.core.ratelimit import rate_limit_enforce
from closeloop.people.models import Contact
from closeloop.people.phones import normalize_phone

from .dedupe import find_exact
from .models import Lead, WebForm
from .selectors import source_named
from .services import LeadInput, lead_create
from .webforms import (
    FIELD_SPECS,
    IDENTIFYING_FIELDS,
    MIN_FILL_SECONDS,
    UTM_FIELDS,
    webform_fields,
    webform_fill_seconds,
)

DEFAULT_SOURCE_NAME = "Website form"
PHONE_CHARACTERS = re.compile(r"^[0-9+()./\-\s]+$")


@dataclass
class Submission:
    """What a visitor sent, exactly as posted: nothing in it is trusted yet."""

    values: dict[str, str] = field(default_factory=dict)
    consent: bool = False
    honeypot: str = ""
    started: str = ""
    utm: dict[str, str] = field(default_factory=dict)
    ip: str = ""
    referral: str = ""  # the referral token the visitor came with (cookie or ?ref=), if any


@dataclass(frozen=True)
class SubmissionResult:
    """What a submission led to: a new lead, a note on an existing record, or nothing (a bot)."""

    outcome: str  # "created", "attached" or "ignored"
    lead: Lead | None = None
    contact: Contact | None = None
    activity: Activity | None = None


class SubmissionInvalid(DomainError):
    """Fields a visitor got wrong, each with a message naming the field ("" = the whole form)."""

    def __init__(self, errors: dict[str, str]) -> None:
        name, message = next(iter(errors.items()))
        super().__init__(message, field=name or None)
        self.errors = errors


def _text(value: object, *, multiline: bool = False) -> str:
    text = str(value or "").replace("\x00", "")  # PostgreSQL refuses NUL in text
    if not multiline:
        text = " ".join(text.split())
    return text.strip()


def _field_error(name: str, label: str, value: str) -> str | None:
    spec = FIELD_SPECS[name]
    if len(value) > spec.max_length:
        return (
            f"{label} can be at most {spec.max_length:,} characters long (it has {len(value):,})."
        )
    if name == "email":
        try:
            validate_email(value)
        except ValidationError:
            return f"{label} must be a valid email address, like name@example.com."
    if name == "phone" and (
        not PHONE_CHARACTERS.match(value) or sum(c.isdigit() for c in value) < 5
    ):
        return f"{label} must be a phone number (digits, spaces, +, - and brackets)."
    if name == "country" and not re.fullmatch(r"[A-Za-z]{2}", value):
        return f"{label} must be a two-letter country code, such as DE or US."
    return None


def submission_clean(*, webform: WebForm, values: dict[str, str]) -> dict[str, str]:
    """The values of the form's own fields, trimmed; SubmissionInvalid names every bad field."""
    cleaned: dict[str, str] = {}
    errors: dict[str, str] = {}
    for item in webform_fields(webform):
        value = _text(values.get(item.name), multiline=item.name == "notes")
        if not value:
            if item.required:
                errors[item.name] = f"{item.label} is required."
            continue
        error = _field_error(item.name, item.label, value)
        if error:
            errors[item.name] = error
        else:
            cleaned[item.name] = value
    if not errors and not any(cleaned.get(name) for name in IDENTIFYING_FIELDS):
        errors[""] = "Please fill in at least your name, email, phone or company."
    if errors:
        raise SubmissionInvalid(errors)
    return cleaned


def _enforce_limits(webform: WebForm, ip: str, now: dt.datetime | None) -> None:
    # The per-IP limit is checked first, so one flooding address is stopped before it can use
    # up the form's own allowance and lock everyone else out.
    rate_limit_enforce(
        key=f"webform:ip:{ip}",
        limit=int(getattr(settings, "WEBFORM_RATE_PER_IP", 10)),
        message="Too many submissions from your network. Please wait a minute and try again.",
        now=now,
    )
    rate_limit_enforce(
        key=f"webform:form:{webform.pk}",
        limit=int(getattr(settings, "WEBFORM_RATE_PER_FORM", 100)),
        message="This form is receiving too many submissions. Please wait a minute and try again.",
        now=now,
    )


def _as_text(webform: WebForm, values: dict[str, str], consent: bool, utm: dict[str, str]) -> str:
    lines = [f"{f.label}: {values[f.name]}" for f in webform_fields(webform) if values.get(f.name)]
    if webform.consent_text:
        lines.append(f"Consent to marketing: {'yes' if consent else 'no'}")
    lines += [f"{name}: {value}" for name, value in utm.items() if value]
    return "\n".join(lines)


def _consent_method(webform: WebForm) -> str:
    return f"web form '{webform.name}'"[:200]


def _attach(
    webform: WebForm, match_lead_id: int | None, match_contact_id: int | None, body: str, *,
    consent: bool, now: dt.datetime,
) -> SubmissionResult:  # fmt: skip
    lead = Lead.objects.filter(pk=match_lead_id).first() if match_lead_id else None
    contact = Contact.objects.filter(pk=match_contact_id).first() if match_contact_id else None
    activity = activity_create(
        actor=None,
        kind=ActivityKind.NOTE,
        subject=f"Web form submission: {webform.name}",
        body=body,
        lead=lead,
        contact=contact,
    )
    if lead is not None and consent:
        # Consent given now is recorded; consent given earlier keeps its original date and way.
        Lead.objects.filter(pk=lead.pk, marketing_consent=False).update(
            marketing_consent=True,
            consent_at=now,
            consent_method=_consent_method(webform),
            version=F("version") + 1,
        )
    return SubmissionResult("attached", lead=lead, contact=contact, activity=activity)


def _create_lead(
    webform: WebForm, values: dict[str, str], *, consent: bool, utm: dict[str, str],
    referral: str = "",
) -> SubmissionResult:  # fmt: skip
    owner = webform.default_owner
    given: dict[str, Any] = {**values, **utm}
    data = LeadInput(
        **given,
        source=webform.default_source or source_named(DEFAULT_SOURCE_NAME),
        campaign=webform.default_campaign,  # None lets lead_create match utm_campaign
        owner=owner if owner is not None and owner.is_active else None,
        marketing_consent=consent,
        consent_method=_consent_method(webform) if consent else "",
    )
    try:
        result = lead_create(actor=None, data=data)
    except DomainError as exc:
        raise SubmissionInvalid({exc.field if exc.field in values else "": exc.message}) from exc
    referral_record_for_lead(lead=result.lead, token=referral)
    return SubmissionResult("created", lead=result.lead)


@transaction.atomic
def _record(
    webform: WebForm, values: dict[str, str], *, consent: bool, utm: dict[str, str],
    referral: str = "",
) -> SubmissionResult:  # fmt: skip
    match = find_exact(
        email=values.get("email", ""), phone_e164=normalize_phone(values.get("phone", ""))
    )
    if match is not None:
        body = _as_text(webform, values, consent, utm)
        result = _attach(
            webform, match.lead_id, match.contact_id, body, consent=consent, now=timezone.now()
        )
    else:
        result = _create_lead(webform, values, consent=consent, utm=utm, referral=referral)
    WebForm.objects.filter(pk=webform.pk).update(submissions=F("submissions") + 1)
    return result


def webform_submit(
    *, webform: WebForm, submission: Submission, now: dt.datetime | None = None
) -> SubmissionResult:
    """Accept a public submission: never a duplicate lead, never anything from a bot or a flood.

    Floods (per IP, then per form) raise RateLimited; a filled honeypot is answered as a success
    but writes nothing; a form sent faster than MIN_FILL_SECONDS after it was shown, or without
    a valid stamp, is refused. An email or phone that already belongs to a lead or contact adds
    the submission to that record's timeline instead of creating a lead.
    """
    if not webform.is_active:
        raise DomainError("This form is no longer accepting submissions.")
    # Counted before anything else and outside the write's transaction: refused and invalid
    # posts count too, and a rollback must not un-count them.
    _enforce_limits(webform, submission.ip, now)
    if submission.honeypot.strip():
        return SubmissionResult("ignored")
    elapsed = webform_fill_seconds(webform, token=submission.started, now=now)
    if elapsed < MIN_FILL_SECONDS:
        raise DomainError(
            "This form was sent too quickly to have been filled in by a person. "
            "Please wait a few seconds and send it again."
        )
    values = submission_clean(webform=webform, values=submission.values)
    utm = {name: _text(submission.utm.get(name))[:200] for name in UTM_FIELDS}
    consent = bool(submission.consent and webform.consent_text)
    return _record(webform, values, consent=consent, utm=utm, referral=submission.referral)
