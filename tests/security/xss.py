"""Stored-XSS payloads written into every user-editable text field, and the check that a page
shows them as text.

`poison_workspace()` writes a payload into each text field of every row of the app's models
(names, titles, notes, labels, subjects, file names, a visitor's user agent…), leaving out only
fields that hold machine values (keys, digests, codes, time zones, currencies, addresses that
are validated on every way in). It writes straight to the database: whatever way a value came
in (a form, the API, an import, a web form, the mailbox), the page must escape it.

`injections(html)` parses a page as a browser does (tinyhtml5, the HTML5 parsing algorithm) and
lists every element or attribute a payload created: a <script> running the payload, an event
handler, an element whose attribute name is a payload's marker, a javascript: link, or a
template expression that was evaluated.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import tinyhtml5
from django.apps import apps
from django.db import models

# Fields that hold machine values: a payload there is refused on every way in, or would break
# the app before any page is drawn (and never reaches a page as text).
MACHINE_FIELDS = {
    "password", "time_zone", "visitor_time_zone", "base_currency", "currency", "coupon_currency",
    "budget_currency", "prefix", "digest", "secret", "key", "slug", "ics_uid", "e164",
    "phone_e164", "country", "match_on", "message_id", "in_reply_to", "references",
    "claim_token", "reply_to", "content_type", "fingerprint", "code", "role",
    "trait", "cell", "logo_type", "caller", "outcome",
}  # fmt: skip
MACHINE_MODEL_FIELDS = {
    ("activities.Notification", "url"),  # an address inside the app, checked before redirecting
    ("activities.Notification", "kind"),
    ("core.ScheduledJob", "name"),
    ("integrations.WebhookEvent", "name"),
    ("leads.RateLimitHit", "key"),
    ("messaging.ReceivedMessage", "folder"),
    ("api.IdempotencyKey", "body"),
    ("messaging.Message", "from_email"),  # the workspace's own sender address
}

# Texts that are themselves templates with {{ merge fields }}: an unknown field is refused on
# every way in, so their payload leaves the template expression out.
TEMPLATE_TEXTS = {
    ("proposals.Proposal", "intro"), ("proposals.Proposal", "closing"),
    ("proposals.Proposal", "terms_conditions"), ("proposals.ProposalTemplate", "intro"),
    ("proposals.ProposalTemplate", "closing"), ("proposals.ProposalTemplate", "terms_conditions"),
    ("messaging.EmailTemplate", "subject"), ("messaging.EmailTemplate", "text_body"),
    ("messaging.EmailTemplate", "html_body"), ("aftersales.Survey", "email_subject"),
    ("aftersales.Survey", "email_body"),
}  # fmt: skip

ALERT = "alert(1)"


def marker(field: int, row: int) -> str:
    """The name a payload's element carries: which field of which row it came from."""
    return f"xss{field}o{row}"


def payload(field: int, row: int, room: int | None) -> str | None:
    """The longest payload that fits `room` characters (None: too little room for any)."""
    name = marker(field, row)
    full = (
        f'javascript:{ALERT}//"><img src=x onerror={ALERT}><script>{ALERT}</script>'
        f"'><svg onload={ALERT}><b {name}>{name}:{{{{7*7}}}}"
    )
    middle = f"\"><b {name}>'><i {name}>{name}:{{{{7*7}}}}"
    short = f'"><b {name}>'
    for text in (full, middle, short):
        if room is None or len(text) <= room:
            return text
    return None


def _text_fields(model: type[models.Model]) -> list[models.Field]:
    label = model._meta.label
    return [
        field
        for field in model._meta.concrete_fields
        if isinstance(field, models.CharField | models.TextField)
        and not isinstance(field, models.EmailField | models.SlugField)
        and not field.choices
        and field.name not in MACHINE_FIELDS
        and (label, field.name) not in MACHINE_MODEL_FIELDS
    ]


def _app_models() -> Iterator[type[models.Model]]:
    for model in apps.get_models():
        if model.__module__.startswith("closeloop.") and not model._meta.proxy:
            yield model


def _numbered_fields() -> Iterator[tuple[type[models.Model], list[tuple[int, models.Field]]]]:
    """Each model with its user text fields, each field numbered once for its markers."""
    number = 0
    for model in _app_models():
        fields = _text_fields(model)
        yield model, [(number + index, field) for index, field in enumerate(fields)]
        number += len(fields)


def poisoned_fields() -> dict[str, str]:
    """Marker prefix ("xss12o") → the field it is written into ("people.Contact.first_name")."""
    return {
        f"xss{number}o": f"{model._meta.label}.{field.name}"
        for model, fields in _numbered_fields()
        for number, field in fields
    }


def poison_workspace() -> None:
    """Write a payload into every user text field of every row."""
    for model, fields in _numbered_fields():
        json_labels = [f for f in model._meta.concrete_fields if f.name in JSON_LABELS]
        if not fields and not json_labels:
            continue
        manager = model._base_manager
        for row in manager.all():
            changes: dict[str, Any] = {}
            for number, field in fields:
                text = payload(number, row.pk, field.max_length)
                if text is not None and (model._meta.label, field.name) in TEMPLATE_TEXTS:
                    text = text.replace("{{7*7}}", "(7*7)")
                if text is not None:
                    changes[field.attname] = text
            for field in json_labels:
                changes[field.attname] = _poisoned_labels(getattr(row, field.attname), row.pk)
            manager.filter(pk=row.pk).update(**changes)


# JSON lists of {"label": …} a user types: a survey's questions, a web form's field labels.
JSON_LABELS = {"questions", "fields"}
JSON_NUMBER = 9000


def _poisoned_labels(value: Any, row: int) -> Any:
    if not isinstance(value, list):
        return value
    return [
        {**item, "label": payload(JSON_NUMBER, row, 200)} if isinstance(item, dict) else item
        for item in value
    ]


URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "srcdoc"}
EVALUATED = re.compile(r"xss\d+o\d+:49")
MARKER = re.compile(r"xss\d+o\d+")


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].lower()


def injections(html: str) -> list[str]:
    """What the payloads made of this page besides text: empty when everything is escaped."""
    found = []
    for element in tinyhtml5.parse(html).iter():
        if not isinstance(element.tag, str):
            continue  # comments
        tag = _local(element.tag)
        if tag == "script" and ALERT in (element.text or ""):
            found.append(f"<script>{element.text[:80]}")
        for raw_name, value in element.attrib.items():
            name = _local(raw_name)
            if MARKER.fullmatch(name):
                found.append(f"<{tag} {name}>")
            elif (name.startswith("on") and ALERT in value) or (
                name in URL_ATTRIBUTES and value.strip().lower().startswith("javascript:")
            ):
                found.append(f"<{tag} {name}={value[:60]}>")
    found += [f"evaluated {{{{7*7}}}}: {hit}" for hit in EVALUATED.findall(html)]
    return found


def markers_in(html: str) -> set[str]:
    """The payload markers a page shows (as text, after escaping)."""
    return set(MARKER.findall(html))
