"""The checks a lead row gets without the database: the rules of `clean_lead_input`, made fast.

They run on the reading thread, ahead of the chunk that writes the rows. Choice columns
(status, owner, source, campaign) need the database and are resolved by the handler.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from ..choices import FREE_MAIL_DOMAINS
from ..services import MAX_NOTES, TEXT_LIMITS
from .engine import RowError
from .mapping import field_spec
from .phones import normalize_phone_fast
from .values import cell_text

_IDENTIFYING = {"first_name", "last_name", "phone", "company_name"}
LABELS = {name: field_spec("leads", name).label for name in TEXT_LIMITS}
# The everyday shape of an address (lower-case, as rows are): one precompiled match that
# accepts only what Django's EmailValidator accepts too; anything else is asked of it.
_PLAIN_EMAIL = re.compile(
    r"[a-z0-9_+\-]+(?:\.[a-z0-9_+\-]+)*@(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)


def valid_email(email: str) -> bool:
    """Django's EmailValidator, with a precompiled check first (fast) for the usual case."""
    if len(email) <= 320 and _PLAIN_EMAIL.fullmatch(email):
        return True
    try:
        validate_email(email)
    except ValidationError:
        return False
    return True


@lru_cache(maxsize=10_000)
def phone_e164(phone: str) -> str:
    """E.164 of a phone cell; files repeat the same numbers (a switchboard, a duplicate row)."""
    return normalize_phone_fast(phone)


def clean_lead_row(raw: dict[str, Any]) -> dict[str, Any]:
    """A lead's values from a row's mapped cells; RowError names the first bad field."""
    out: dict[str, Any] = {}
    full = raw.get("full_name")
    if full and not (raw.get("first_name") or raw.get("last_name")):
        first, _, last = cell_text(full).rpartition(" ")
        out["first_name"], out["last_name"] = (first, last) if first else ("", last)
    limits = TEXT_LIMITS
    for name, value in raw.items():
        limit = limits.get(name)
        if limit is not None:
            text = value if value.__class__ is str else cell_text(value)
            if len(text) > limit:
                raise RowError(LABELS[name], f"can be at most {limit} characters long")
            out[name] = text
    email = raw.get("email")
    if email:
        email = (email if email.__class__ is str else cell_text(email)).lower()
        if not valid_email(email):
            raise RowError("Email", f"“{email}” is not a valid email address")
        out["email"] = email
    notes = raw.get("notes")
    if notes:
        notes = cell_text(notes)
        if len(notes) > MAX_NOTES:
            raise RowError("Notes", f"can be at most {MAX_NOTES:,} characters long")
        out["notes"] = notes
    if "country" in out:
        out["country"] = out["country"].upper()
    if not (email or out.keys() & _IDENTIFYING):
        raise RowError("Name", "a lead needs at least a name, an email, a phone or a company")
    phone = out.get("phone")
    out["phone_e164"] = phone_e164(phone) if phone else ""
    domain = out.get("company_domain")
    if domain:
        domain = domain.lower().removeprefix("https://").removeprefix("http://")
        out["company_domain"] = domain.removeprefix("www.").split("/")[0]
    elif email:
        domain = email.rsplit("@", 1)[1]
        if domain not in FREE_MAIL_DOMAINS:
            out["company_domain"] = domain
    return out
