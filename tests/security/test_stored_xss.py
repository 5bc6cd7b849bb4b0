"""Stored XSS: every user text field holds a script and HTML payload; every page shows it as text.

The workspace of the page walk (test_page_rules.py) is built — a deal with its organization,
contact, proposal, activities, emails, coupons, survey answers, booking page, web form, import,
follow-up plan… — then every user text field of every row is overwritten with a payload
(tests/security/xss.py), a few things are done again so that what is computed from those texts
(the proposal's sent version, the audit history, webhook payloads, an import's rows and headers,
a customer's answer and browser name) carries payloads too, and every page of the walk is opened
as an admin, as the records' owner and, for the public pages, without logging in. Each page is
parsed as a browser would: no payload may have become an element, an attribute, an event
handler, a javascript: link or an evaluated template expression. The payloads must show up as
text on the pages, or the walk would prove nothing.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client

from closeloop.leads.models import Lead
from closeloop.messaging.merge import (
    MERGE_FIELDS,
    merge_context_for,
    merge_missing,
    merge_render,
)
from closeloop.people.models import Contact
from closeloop.pipeline.models import Deal
from tests.factories import PASSWORD
from tests.route_records import fill

from .page_records import PageRecords
from .poisoned import poisoned_records, walked_pages
from .test_page_rules import Page, Public
from .xss import injections, markers_in, payload, poisoned_fields

pytestmark = pytest.mark.django_db


@pytest.fixture
def poisoned(outsider: Any, admin: Any, settings: Any) -> PageRecords:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    return poisoned_records(outsider, admin)


def _client(user: Any = None) -> Client:
    client = Client()
    if user is not None:
        assert client.login(username=user.email, password=PASSWORD)
    return client


RAW_HTML = re.compile(r"^/outbox/\d+/html/$")  # an email's own HTML part, in a sandboxed frame


def _visit(client: Client, url: str, seen: set[str], problems: list[str]) -> None:
    response = client.get(url)
    if response.status_code >= 500:
        problems.append(f"{url}: {response.status_code}")
        return
    if RAW_HTML.match(url):
        if "sandbox" not in response.get("Content-Security-Policy", ""):
            problems.append(f"{url}: an email's HTML shown without a sandbox")
        return
    kind = response.get("Content-Type", "")
    if response.status_code != 200 or not kind.startswith("text/html"):
        return
    body = b"".join(response.streaming_content) if response.streaming else response.content
    html = body.decode("utf-8", "replace")
    seen |= markers_in(html)
    problems += [f"{url}: {found}" for found in injections(html)]


MORE_PAGES = ["/deals/{lost_deal}/"]  # records no rule names, shown on their own page
SEARCHED = ["/deals/", "/leads/", "/people/organizations/", "/people/contacts/", "/outbox/",
            "/customers/", "/customers/coupons/", "/settings/audit/", "/deals/board/"]  # fmt: skip


def test_every_page_shows_the_payloads_as_text(poisoned, admin, outsider):
    seen: set[str] = set()
    problems: list[str] = []
    callers = {"admin": _client(admin), "owner": _client(outsider), "visitor": _client()}
    for page in [*walked_pages(), *(Page(url) for url in MORE_PAGES)]:
        url = fill(page.url, poisoned)
        for who in ("visitor",) if isinstance(page, Public) else ("admin", "owner"):
            _visit(callers[who], url, seen, problems)
    reflected = quote(payload(9100, 1, None) or "")
    for url in SEARCHED:  # what was searched for is shown back in the search box
        _visit(callers["admin"], f"{url}?q={reflected}", seen, problems)
    assert problems == [], "\n".join(problems)
    fields = poisoned_fields()
    shown = {fields[m.split("o")[0] + "o"] for m in seen if m.split("o")[0] + "o" in fields}
    missing = sorted(set(MUST_SHOW) - shown)
    assert missing == [], (
        f"the walk never showed these fields, so proved nothing for them: {missing}"
    )


# The fields a user types that the walk must have shown somewhere (escaped): if a page stops
# showing one, pick another page for it rather than dropping it.
MUST_SHOW = [
    "accounts.User.full_name", "accounts.Team.name", "accounts.ApiToken.name",
    "people.Organization.name", "people.Organization.website", "people.Organization.address",
    "people.Organization.notes", "people.Contact.first_name", "people.Contact.last_name",
    "people.Contact.job_title", "people.Contact.notes", "people.ContactPhone.raw",
    "pipeline.Pipeline.name", "pipeline.Stage.name", "pipeline.LostReason.name",
    "pipeline.Deal.title", "pipeline.Deal.competitor",
    "activities.Activity.subject", "activities.Activity.body", "activities.Activity.location",
    "activities.Notification.title", "activities.BookingPage.title",
    "activities.BookingPage.intro", "activities.MeetingType.name",
    "leads.Source.name", "leads.Campaign.name", "leads.Lead.first_name", "leads.Lead.last_name",
    "leads.Lead.company_name", "leads.Lead.notes", "leads.Lead.website",
    "leads.WebForm.name", "leads.QualificationCriterion.name", "leads.DuplicatePair.evidence",
    "leads.AssignmentRule.name", "leads.ImportBatch.file_name",
    "messaging.EmailTemplate.name", "messaging.Message.subject",
    "messaging.MessageAttachment.filename", "messaging.ReceivedMessage.from_name",
    "messaging.ReceivedMessage.subject",
    "proposals.Product.name", "proposals.ProposalTemplate.name", "proposals.Proposal.title",
    "proposals.LineItem.name", "proposals.Material.filename",
    "proposals.DiscountApproval.reason", "proposals.ProposalResponse.comment",
    "aftersales.Coupon.description", "aftersales.Segment.name", "aftersales.Mailing.name",
    "aftersales.PlanTemplate.name", "aftersales.PlanStep.title", "aftersales.Survey.name",
    "aftersales.Survey.question", "aftersales.SurveyResponse.comment",
    "integrations.WebhookSubscription.description", "core.AuditEntry.object_label",
]  # fmt: skip


def test_merge_fields_in_an_html_email_are_escaped(poisoned, outsider):
    """Every merge field, filled from poisoned records into an HTML template, stays text."""
    deal = Deal.objects.get(pk=poisoned["deal"])
    lead = Lead.objects.get(pk=poisoned["lead"])
    outsider.refresh_from_db()
    for context in (
        merge_context_for(sender=outsider, deal=deal),
        merge_context_for(sender=outsider, lead=lead),
        merge_context_for(sender=outsider, contact=Contact.objects.get(pk=poisoned["contact"])),
    ):
        fields = [f"{{{{ {name} }}}}" for name in MERGE_FIELDS]
        html = "<p>" + " ".join(f for f in fields if not merge_missing(context, f)) + "</p>"
        rendered = merge_render(html, context, html=True)
        assert injections(rendered) == []
        assert markers_in(rendered), "the poisoned values were merged"
        assert "{" not in rendered.replace("&#123;", "")  # no value is read as a field again


def test_the_timeline_of_a_poisoned_email_and_its_html_part(poisoned, admin):
    """An email sent after the poisoning: its HTML part (a sandboxed frame) and its page."""
    from closeloop.messaging.compose import email_compose_send

    deal = Deal.objects.get(pk=poisoned["deal"])
    text = (payload(9200, 1, None) or "").replace("{{7*7}}", "")  # braces are merge fields here
    message = email_compose_send(
        actor=admin, to="olaf@outsider.example", subject=text[:250], text_body=text, deal=deal,
        html_body="<p>Hello {{ contact.first_name }}, about {{ deal.title }}:</p>",
    )  # fmt: skip
    client = _client(admin)
    for url in (f"/outbox/{message.pk}/", f"/deals/{deal.pk}/"):
        assert injections(client.get(url).content.decode()) == [], url
    part = client.get(f"/outbox/{message.pk}/html/")
    assert "sandbox" in part["Content-Security-Policy"]
    assert injections(part.content.decode()) == []


def test_the_emails_the_app_writes_in_html_escape_the_payloads(poisoned, outsider):
    """The survey invitation and its thank-you mail are written into HTML by the app itself from
    the survey's texts and the customer's name: both poisoned."""
    from closeloop.aftersales.models import Survey
    from closeloop.aftersales.surveys import survey_answer, survey_invite_send
    from closeloop.messaging.models import Message

    before = set(Message.objects.values_list("pk", flat=True))
    invite = survey_invite_send(
        actor=outsider, survey=Survey.objects.get(pk=poisoned["survey"]),
        contact=Contact.objects.get(pk=poisoned["contact"]),
        deal=Deal.objects.get(pk=poisoned["deal"]),
    )  # fmt: skip
    survey_answer(invite=invite, score=10, comment="")
    written = Message.objects.exclude(pk__in=before)
    assert written.count() >= 2, "the invitation and the thank-you mail"
    for message in written:
        assert message.html_body and markers_in(message.html_body), message.subject
        assert injections(message.html_body) == [], message.subject
