"""The page walk's workspace with a payload in every user text field (see xss.py), shared by
the stored-XSS walk and its Chromium check."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from closeloop.leads.imports.services import import_configure, import_run, import_start
from closeloop.leads.models import Lead
from closeloop.leads.services.inputs import LeadInput
from closeloop.leads.services.leads import lead_update
from closeloop.pipeline.models import Deal
from closeloop.pipeline.services import deal_update
from closeloop.proposals.links import version_token
from closeloop.proposals.models import Proposal
from closeloop.proposals.services import proposal_send, proposal_update
from closeloop.proposals.services.responses import Visitor, proposal_request_changes

from .page_records import PageRecords
from .test_page_rules import RULES, Page
from .xss import payload, poison_workspace

PLACEHOLDER = re.compile(r"\{(\w+)\}")
FIRST = ("proposal", "approval", "proposal_token", "material", "version_number")
LATE = ("plan_record", "plan", "plan_step")  # they win the deal: made after the proposal's work
# shown on pages, though no rule's address names them
SHOWN = ("activity", "survey_response", "message", "api_token", "lost_deal", "contact_phone",
         "notification", "received_message")  # fmt: skip


def walked_pages() -> list[Page]:
    """Every GET of the page walk."""
    return [
        rule
        for rules in RULES.values()
        for rule in (rules if isinstance(rules, tuple) else (rules,))
        if rule.method == "GET"
    ]


def _record_names() -> list[str]:
    pages = walked_pages()
    names = {n for page in pages for n in PLACEHOLDER.findall(page.url)} - {"serial"}
    names |= {getattr(page, "listed", "") for page in pages} | set(SHOWN)
    rest = sorted(names - set(FIRST) - set(LATE) - {""})
    return [*FIRST, *rest]


def _computed_again(records: PageRecords, outsider: Any) -> None:
    """What is computed from the texts, made again from the poisoned ones: a proposal version
    (its frozen snapshot) with the customer's answer and browser name, audit history and
    webhook payloads of an edit, and an import whose file's headers and cells are payloads."""
    proposal = Proposal.objects.get(pk=records["proposal"])
    proposal = proposal_update(actor=outsider, proposal=proposal, title=payload(9001, 1, 200))
    proposal_send(actor=outsider, proposal=proposal)
    version = proposal.versions.order_by("number").last()
    visitor = Visitor(ip="203.0.113.9", user_agent=payload(9002, 1, 300) or "")
    proposal_request_changes(version=version, comment=payload(9003, 1, None) or "",
                             visitor=visitor)  # fmt: skip
    records.made["proposal_token"] = version_token(version)
    records.made["version_number"] = version.number
    deal = Deal.objects.get(pk=records["deal"])
    deal_update(actor=outsider, deal=deal, changes={"title": payload(9004, 1, 200)})
    lead = Lead.objects.get(pk=records["lead"])
    lead_update(actor=outsider, lead=lead, data=LeadInput(
        last_name=payload(9006, 1, 100) or "", company_name=payload(9007, 1, 200) or "",
        notes=payload(9008, 1, None) or "", owner=outsider))  # fmt: skip
    header = '"><b xss9009o1>'
    table = io.StringIO()
    csv.writer(table).writerows([["Last name", header], [payload(9010, 1, None), "x"]])
    importer = records["manager_of_owner"]
    batch = import_start(actor=importer, kind="leads", stream=io.BytesIO(table.getvalue().encode()),
                         file_name='"><b xss9011o1>.csv')  # fmt: skip
    batch = import_configure(actor=importer, batch=batch,
                             mapping={"Last name": "last_name", header: ""})  # fmt: skip
    records.made["import_batch"] = import_run(actor=importer, batch=batch).pk


def poisoned_records(owner: Any, admin: Any) -> PageRecords:
    """Every record the walk shows, owned by `owner`, with payloads in all their texts."""
    records = PageRecords(owner, admin)
    for name in _record_names():
        records[name]
    poison_workspace()
    _computed_again(records, owner)
    for name in LATE:
        records[name]
    poison_workspace()  # what the last steps made from the texts, too
    return records
