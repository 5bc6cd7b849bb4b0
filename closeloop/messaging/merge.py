"""Merge fields: the fixed, documented set of `{{ name }}` placeholders email templates may use.

Rendering is our own small substitution over plain values, never the Django template language:
a template can only name a field of this registry, so it cannot reach into arbitrary objects.
Later features (proposal, survey, unsubscribe links) add fields with `merge_field_register`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils.html import escape

from closeloop.core.exceptions import DomainError
from closeloop.core.money import format_money

# `{{ name }}`; anything between the braces is captured so a malformed name can be reported
PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


@dataclass
class MergeContext:
    """The records an email is written about, and who sends it; fields read their values here."""

    sender: Any
    lead: Any = None
    contact: Any = None
    deal: Any = None
    organization: Any = None
    owner: Any = None
    workspace_name: str = ""
    base_url: str = ""  # e.g. https://crm.example.com, for links into the app
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def person(self) -> Any:
        """The person written to: the contact, or the lead when writing to a lead."""
        return self.contact if self.contact is not None else self.lead

    def absolute(self, path: str) -> str:
        return f"{self.base_url.rstrip('/')}{path}" if self.base_url else ""


@dataclass(frozen=True)
class MergeField:
    """One placeholder: its name, what users read about it, and how its value is found."""

    name: str
    label: str
    value: Callable[[MergeContext], str | None]
    example: str = ""
    multiline: bool = False  # signatures: line breaks become <br> in HTML


MERGE_FIELDS: dict[str, MergeField] = {}


def merge_field_register(
    name: str,
    label: str,
    value: Callable[[MergeContext], str | None],
    *,
    example: str = "",
    multiline: bool = False,
) -> MergeField:
    """Add a field to the registry (at import time); a name is registered once."""
    if not FIELD_NAME.match(name):
        raise ValueError(f"{name!r} is not a merge field name (like section.field)")
    if name in MERGE_FIELDS:
        raise ValueError(f"merge field {name!r} is already registered")
    merge_field = MergeField(name, label, value, example, multiline)
    MERGE_FIELDS[name] = merge_field
    return merge_field


def _text(value: Any) -> str | None:
    text = "" if value is None else str(value).strip()
    return text or None


def _attr(obj: Any, name: str) -> str | None:
    return None if obj is None else _text(getattr(obj, name, None))


def _person_name(ctx: MergeContext) -> str | None:
    person = ctx.person
    if person is None:
        return None
    return _text(f"{person.first_name} {person.last_name}")


def _person_email(ctx: MergeContext) -> str | None:
    if ctx.contact is not None:
        return _text(ctx.contact.primary_email)
    return _attr(ctx.lead, "email")


def _company(ctx: MergeContext) -> str | None:
    if ctx.organization is not None:
        return _text(ctx.organization.name)
    return _attr(ctx.lead, "company_name")


def _deal_value(ctx: MergeContext) -> str | None:
    if ctx.deal is None or not ctx.deal.value:
        return None
    return format_money(ctx.deal.value, ctx.deal.currency)


def _user_name(user: Any) -> str | None:
    return None if user is None else _text(user.display_name)


def _record_link(ctx: MergeContext) -> str | None:
    for record, name in (
        (ctx.deal, "pipeline:deal_detail"),
        (ctx.contact, "people:contact_detail"),
        (ctx.lead, "leads:lead_detail"),
    ):
        if record is not None:
            return _text(ctx.absolute(reverse(name, args=[record.pk])))
    return None


_FIELDS: list[tuple[str, str, Callable[[MergeContext], str | None], str]] = [
    ("contact.first_name", "Contact's first name", lambda c: _attr(c.person, "first_name"), "Lena"),
    ("contact.last_name", "Contact's last name", lambda c: _attr(c.person, "last_name"), "Lind"),
    ("contact.full_name", "Contact's full name", _person_name, "Lena Lind"),
    ("contact.email", "Contact's email", _person_email, "lena@example.org"),
    ("contact.job_title", "Contact's job title", lambda c: _attr(c.person, "job_title"), "CTO"),
    ("company.name", "Company name", _company, "Bakery Lind"),
    ("lead.first_name", "Lead's first name", lambda c: _attr(c.lead, "first_name"), "Lena"),
    ("lead.last_name", "Lead's last name", lambda c: _attr(c.lead, "last_name"), "Lind"),
    ("lead.company", "Lead's company", lambda c: _attr(c.lead, "company_name"), "Bakery Lind"),
    ("deal.title", "Deal title", lambda c: _attr(c.deal, "title"), "New website"),
    ("deal.value", "Deal value", _deal_value, "€4,000"),
    (
        "deal.stage",
        "Deal stage",
        lambda c: None if c.deal is None else _attr(c.deal.stage, "name"),
        "Proposal",
    ),
    ("owner.name", "Record owner's name", lambda c: _user_name(c.owner), "Ann Smith"),
    ("owner.email", "Record owner's email", lambda c: _attr(c.owner, "email"), "ann@example.com"),
    ("sender.name", "Your name (who sends)", lambda c: _user_name(c.sender), "Ann Smith"),
    ("sender.email", "Your email", lambda c: _attr(c.sender, "email"), "ann@example.com"),
    ("workspace.name", "Workspace name", lambda c: _text(c.workspace_name), "Acme Ltd"),
    ("links.record", "Link to the record in Closeloop", _record_link, "https://…/deals/12/"),
]
for _name, _label, _getter, _example in _FIELDS:
    merge_field_register(_name, _label, _getter, example=_example)
merge_field_register(
    "owner.signature",
    "Record owner's signature",
    lambda c: _attr(c.owner, "signature"),
    example="Ann Smith\nAcme Ltd",
    multiline=True,
)
merge_field_register(
    "sender.signature",
    "Your signature",
    lambda c: _attr(c.sender, "signature"),
    example="Ann Smith\nAcme Ltd",
    multiline=True,
)


def merge_field_names(text: str) -> list[str]:
    """The placeholder names a text uses, in order of first use (not checked)."""
    names: list[str] = []
    for match in PLACEHOLDER.finditer(text or ""):
        name = match.group(1).strip()
        if name not in names:
            names.append(name)
    return names


def merge_check(*, field: str, text: str) -> None:
    """A text may only use registered merge fields, and every `{{` must be closed."""
    unknown = [name for name in merge_field_names(text) if name not in MERGE_FIELDS]
    if unknown:
        listed = ", ".join(f"{{{{ {name} }}}}" for name in unknown)
        raise DomainError(f"Unknown merge field: {listed}. See the list of fields.", field=field)
    if "{{" in PLACEHOLDER.sub("", text or ""):
        raise DomainError("A “{{” is not closed with “}}”.", field=field)


class MergeMissing(DomainError):
    """Merge fields the chosen record has no value for; the email cannot be sent as it is."""

    def __init__(self, names: Iterable[str], *, field: str | None = None) -> None:
        self.names = list(names)
        labels = ", ".join(f"{MERGE_FIELDS[n].label} ({{{{ {n} }}}})" for n in self.names)
        super().__init__(
            f"No value for {labels}: fill it in on the record, or remove it from the email.",
            field=field,
        )


def merge_missing(ctx: MergeContext, *texts: str) -> list[str]:
    """The fields the texts use that have no value for this context (unknown ones excluded)."""
    names: list[str] = []
    for text in texts:
        for name in merge_field_names(text):
            if name in MERGE_FIELDS and name not in names and _value(ctx, name) is None:
                names.append(name)
    return names


def _value(ctx: MergeContext, name: str) -> str | None:
    if name in ctx.extra:
        return _text(ctx.extra[name])
    return MERGE_FIELDS[name].value(ctx)


def merge_render(text: str, ctx: MergeContext, *, html: bool, field: str | None = None) -> str:
    """Replace each placeholder by its value: HTML-escaped in HTML, as it is in text.

    A field with no value is an error naming it, so a sent email never carries a blank.
    """
    merge_check(field=field or "body", text=text)
    missing = merge_missing(ctx, text)
    if missing:
        raise MergeMissing(missing, field=field)

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        value = _value(ctx, name) or ""
        if not html:
            return value
        # braces as entities too: an edited copy rendered again never reads a value as a field
        if MERGE_FIELDS[name].multiline:
            return str(linebreaksbr(value, autoescape=True)).replace("{", "&#123;")
        return str(escape(value)).replace("{", "&#123;")

    return PLACEHOLDER.sub(substitute, text or "")


@dataclass(frozen=True)
class RenderedEmail:
    """Subject and bodies with every merge field filled in."""

    subject: str
    text_body: str
    html_body: str


def merge_render_email(
    ctx: MergeContext, *, subject: str, text_body: str, html_body: str
) -> RenderedEmail:
    """Render subject, text and HTML together; all missing fields are named in one error."""
    for name, text in (("subject", subject), ("text_body", text_body), ("html_body", html_body)):
        merge_check(field=name, text=text)
    missing = merge_missing(ctx, subject, text_body, html_body)
    if missing:
        raise MergeMissing(missing)
    return RenderedEmail(
        subject=" ".join(merge_render(subject, ctx, html=False, field="subject").split()),
        text_body=merge_render(text_body, ctx, html=False, field="text_body"),
        html_body=merge_render(html_body, ctx, html=True, field="html_body"),
    )


def merge_context_for(
    *, sender: Any, lead: Any = None, contact: Any = None, deal: Any = None, base_url: str = ""
) -> MergeContext:
    """The context for writing about one record: a deal brings its contact and organization."""
    from closeloop.accounts.selectors import workspace_settings

    organization = None
    owner = None
    if deal is not None:
        contact = contact or deal.contact
        organization = deal.organization
        owner = deal.owner
    if contact is not None:
        organization = organization or contact.organization
        owner = owner or contact.owner
    if lead is not None:
        organization = organization or lead.organization
        owner = owner or lead.owner
    return MergeContext(
        sender=sender,
        lead=lead,
        contact=contact,
        deal=deal,
        organization=organization,
        owner=owner,
        workspace_name=workspace_settings().name,
        base_url=base_url,
    )
