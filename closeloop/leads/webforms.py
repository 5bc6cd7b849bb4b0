"""Web forms: what an admin designs (services, selectors) and the signed keys of their public pages.

A form's public URL carries its key signed with a salt, so a key cannot be guessed or altered;
each rendered page also carries a signed "started at" stamp, which is how the minimum fill time
is checked without any server-side session.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.core import signing
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from closeloop.accounts.models import User
from closeloop.core.exceptions import DomainError

from .models import Campaign, Source, WebForm


@dataclass(frozen=True)
class FieldSpec:
    """A lead field a web form may ask for: its default label, length limit and input type."""

    name: str
    label: str
    max_length: int
    input_type: str = "text"


# The lead fields a form may offer, in the order the form shows them.
FIELD_SPECS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in [
        FieldSpec("first_name", "First name", 100),
        FieldSpec("last_name", "Last name", 100),
        FieldSpec("email", "Email", 254, "email"),
        FieldSpec("phone", "Phone", 60, "tel"),
        FieldSpec("job_title", "Job title", 150),
        FieldSpec("company_name", "Company", 200),
        FieldSpec("website", "Website", 300),
        FieldSpec("company_size", "Company size", 30),
        FieldSpec("industry", "Industry", 100),
        FieldSpec("country", "Country (two-letter code, e.g. DE)", 2),
        FieldSpec("notes", "Message", 5_000, "textarea"),
    ]
}
# A lead needs one of these, so a form must offer at least one.
IDENTIFYING_FIELDS = ("first_name", "last_name", "email", "phone", "company_name")
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
HONEYPOT_FIELD = "website_url2"
STARTED_FIELD = "_started"
FORM_KEY_FIELD = "_form"
CONSENT_FIELD = "consent"
MAX_LABEL = 100

KEY_SALT = "closeloop.leads.webform.key"
STARTED_SALT = "closeloop.leads.webform.started"
STARTED_MAX_AGE = dt.timedelta(hours=12)
MIN_FILL_SECONDS = 3


@dataclass
class WebFormField:
    """One field a form asks for, with the label visitors see and whether it is required."""

    name: str
    label: str = ""
    required: bool = False


@dataclass
class WebFormInput:
    """What an admin sets on a web form."""

    name: str
    fields: list[WebFormField] = field(default_factory=list)
    consent_text: str = ""
    thank_you_message: str = ""
    redirect_url: str = ""
    default_source: Source | None = None
    default_campaign: Campaign | None = None
    default_owner: User | None = None


# --- signed keys ---------------------------------------------------------------------------


def webform_public_token(webform: WebForm) -> str:
    """The signed key that goes into the form's public URL."""
    return signing.Signer(salt=KEY_SALT).sign(webform.key)


def webform_started_token(webform: WebForm, *, at: dt.datetime | None = None) -> str:
    """A signed stamp of when the form was shown, rendered into it as a hidden field."""
    when = (at or timezone.now()).timestamp()
    return signing.dumps({"k": webform.key, "t": when}, salt=STARTED_SALT, compress=True)


def webform_fill_seconds(webform: WebForm, *, token: str, now: dt.datetime | None = None) -> float:
    """Seconds since the form was shown; DomainError when the stamp is missing or not ours."""
    again = "Please check your details and send the form again."
    try:
        data = signing.loads(token or "", salt=STARTED_SALT, max_age=STARTED_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise DomainError(f"This form was open for too long. {again}") from exc
    except signing.BadSignature as exc:
        raise DomainError(f"This form could not be verified. {again}") from exc
    if not isinstance(data, dict) or data.get("k") != webform.key:
        raise DomainError(f"This form could not be verified. {again}")
    return (now or timezone.now()).timestamp() - float(data.get("t", 0))


# --- selectors -----------------------------------------------------------------------------


def webform_for_token(*, token: str) -> WebForm | None:
    """The form a signed public key names, active or not; None for a tampered or unknown key."""
    try:
        key = signing.Signer(salt=KEY_SALT).unsign(token)
    except signing.BadSignature:
        return None
    return WebForm.objects.select_related("default_owner").filter(key=key).first()


def webform_list() -> QuerySet[WebForm]:
    """Every web form with what the list shows (they are workspace-wide, not owned)."""
    return WebForm.objects.select_related(
        "default_source", "default_campaign", "default_owner"
    ).order_by("name", "pk")


def webform_get(*, pk: int) -> WebForm | None:
    """One web form, or None."""
    return webform_list().filter(pk=pk).first()


def webform_fields(webform: WebForm) -> list[WebFormField]:
    """The fields a form asks for, skipping any the code no longer knows."""
    result = []
    for item in webform.fields or []:
        spec = FIELD_SPECS.get(str(item.get("name")))
        if spec is not None:
            label = str(item.get("label") or "").strip() or spec.label
            result.append(WebFormField(spec.name, label, bool(item.get("required"))))
    return result


# --- services ------------------------------------------------------------------------------


def _require_manager(actor: Any) -> None:
    if getattr(actor, "role", None) not in ("admin", "manager") or not actor.is_active:
        raise DomainError("Only admins and managers can build web forms.")


def _clean_fields(fields: list[WebFormField]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    cleaned = []
    for item in fields:
        spec = FIELD_SPECS.get(item.name)
        if spec is None:
            raise DomainError(f"“{item.name}” is not a field a web form can ask for.")
        if item.name in seen:
            raise DomainError(f"The field {spec.label} is listed twice.")
        seen.add(item.name)
        label = (item.label or "").strip() or spec.label
        if len(label) > MAX_LABEL:
            raise DomainError(f"The label of {spec.label} can be at most {MAX_LABEL} characters.")
        cleaned.append({"name": item.name, "label": label, "required": bool(item.required)})
    if not seen & set(IDENTIFYING_FIELDS):
        raise DomainError(
            "A web form must ask for at least a name, an email, a phone or a company.",
            field="fields",
        )
    order = list(FIELD_SPECS)
    return sorted(cleaned, key=lambda f: order.index(f["name"]))


def _clean(data: WebFormInput) -> dict[str, Any]:
    name = (data.name or "").strip()
    if not name:
        raise DomainError("A web form needs a name.", field="name")
    if len(name) > 120:
        raise DomainError("The name can be at most 120 characters long.", field="name")
    redirect_url = (data.redirect_url or "").strip()
    if redirect_url:
        try:
            URLValidator(schemes=["http", "https"])(redirect_url)
        except Exception as exc:
            raise DomainError(
                "The redirect URL must be a full http(s):// address.", field="redirect_url"
            ) from exc
    thank_you = (data.thank_you_message or "").strip()
    owner = data.default_owner
    if owner is not None and not owner.is_active:
        raise DomainError(f"{owner} is deactivated and cannot own leads.", field="default_owner")
    return {
        "name": name,
        "fields": _clean_fields(data.fields),
        "consent_text": (data.consent_text or "").strip(),
        "thank_you_message": thank_you or "Thank you! We will be in touch soon.",
        "redirect_url": redirect_url,
        "default_source": data.default_source,
        "default_campaign": data.default_campaign,
        "default_owner": owner,
    }


def _new_key() -> str:
    while True:
        key = secrets.token_urlsafe(18)
        if not WebForm.objects.filter(key=key).exists():
            return key


@transaction.atomic
def webform_create(*, actor: Any, data: WebFormInput) -> WebForm:
    """Create a web form with a fresh random key (admins and managers only)."""
    _require_manager(actor)
    return WebForm.objects.create(**_clean(data), key=_new_key(), created_by=actor)


@transaction.atomic
def webform_update(*, actor: Any, webform: WebForm, data: WebFormInput) -> WebForm:
    """Change a web form; its key, and so its embed code, stays the same."""
    _require_manager(actor)
    current = WebForm.objects.select_for_update().get(pk=webform.pk)
    for name, value in _clean(data).items():
        setattr(current, name, value)
    current.save()
    return current


@transaction.atomic
def webform_set_active(*, actor: Any, webform: WebForm, is_active: bool) -> WebForm:
    """Switch a form on or off; an inactive form's public page answers 404."""
    _require_manager(actor)
    current = WebForm.objects.select_for_update().get(pk=webform.pk)
    current.is_active = is_active
    current.save(update_fields=["is_active", "updated_at"])
    return current
