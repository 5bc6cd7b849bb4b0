"""Record versions: every write to a lead or contact takes the version one up (so a page open
on it goes stale), and a service given another version than the stored one refuses the edit,
naming what it missed, and writes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from closeloop.core.exceptions import StaleEditError
from closeloop.core.models import AuditEntry
from closeloop.leads.merge import contact_merge, lead_merge
from closeloop.leads.models import DisqualifyReason, Lead, QualificationCriterion
from closeloop.leads.qualification import (
    lead_disqualify,
    lead_nurture,
    lead_reopen,
    scorecard_update,
)
from closeloop.leads.services import LeadInput, lead_create, lead_restore, lead_trash, lead_update
from closeloop.leads.services.bulk import lead_bulk_assign, lead_bulk_set_status
from closeloop.messaging.consent import marketing_consent_set
from closeloop.people.models import Contact
from closeloop.people.services import (
    EmailInput,
    PhoneInput,
    contact_create,
    contact_restore,
    contact_trash,
    contact_update,
)

pytestmark = pytest.mark.django_db


def _lead(rep: Any, **fields: Any) -> Lead:
    data = LeadInput(first_name="Ada", last_name="Byron", email="ada@x.example", **fields)
    lead = lead_create(actor=rep, data=data).lead
    assert lead is not None
    return lead


def _version(model: Any, pk: int) -> int:
    return int(model.with_trashed.values_list("version", flat=True).get(pk=pk))


LEAD_WRITES: list[tuple[str, Callable[[Any, Lead, Any], Any]]] = [
    ("edit", lambda rep, lead, other: lead_update(
        actor=rep, lead=lead, data=LeadInput(last_name="Lovelace", email="ada@x.example",
                                             owner=rep))),
    ("bulk assign", lambda rep, lead, other: lead_bulk_assign(
        actor=rep, lead_ids=[lead.pk], owner=other)),
    ("bulk status", lambda rep, lead, other: lead_bulk_set_status(
        actor=rep, lead_ids=[lead.pk], status="contacted")),
    ("scorecard", lambda rep, lead, other: scorecard_update(
        actor=rep, lead=lead, criterion=QualificationCriterion.objects.get(key="need"),
        status="yes", note="Slow site")),
    ("nurture", lambda rep, lead, other: lead_nurture(
        actor=rep, lead=lead, reason="Next year",
        until=timezone.localdate() + dt.timedelta(days=90))),
    ("discard", lambda rep, lead, other: lead_disqualify(
        actor=rep, lead=lead, reason=DisqualifyReason.objects.filter(is_active=True)
        .exclude(name__iexact="other").first())),
    ("trash", lambda rep, lead, other: lead_trash(actor=rep, lead=lead)),
]  # fmt: skip


@pytest.mark.parametrize(("name", "write"), LEAD_WRITES, ids=[n for n, _ in LEAD_WRITES])
def test_every_lead_write_takes_its_version_up(
    name: str, write: Callable[..., Any], admin: Any, teammate: Any
) -> None:
    lead = _lead(admin, owner=admin)
    before = _version(Lead, lead.pk)
    write(admin, lead, teammate)
    assert _version(Lead, lead.pk) == before + 1, name


def test_reopen_restore_and_merge_take_lead_versions_up(admin: Any) -> None:
    lead = _lead(admin, owner=admin)
    reason = DisqualifyReason.objects.filter(is_active=True).exclude(name__iexact="other").first()
    lead_disqualify(actor=admin, lead=lead, reason=reason)
    seen = _version(Lead, lead.pk)
    lead_reopen(actor=admin, lead=lead)
    lead_trash(actor=admin, lead=lead)
    lead_restore(actor=admin, lead=lead)
    assert _version(Lead, lead.pk) == seen + 3
    other = lead_create(actor=admin, data=LeadInput(first_name="Ada", last_name="B.")).lead
    assert other is not None
    winner_seen, loser_seen = _version(Lead, lead.pk), _version(Lead, other.pk)
    lead_merge(actor=admin, winner=lead, loser=other, choices={})
    assert _version(Lead, lead.pk) == winner_seen + 1
    assert _version(Lead, other.pk) == loser_seen + 1


def test_contact_writes_take_its_version_up_and_an_unchanged_save_writes_nothing(
    rep: Any,
) -> None:
    contact = contact_create(actor=rep, first_name="Lena", emails=[EmailInput("l@x.example")])
    assert contact.version == 1
    contact_update(
        actor=rep, contact=contact, first_name="Lena", emails=[EmailInput("l@x.example")]
    )
    assert _version(Contact, contact.pk) == 1  # nothing changed: nothing written
    assert AuditEntry.objects.filter(object_id=contact.pk, action="update").count() == 0
    contact_update(actor=rep, contact=contact, phones=[PhoneInput("+49 30 1234567")])
    marketing_consent_set(actor=rep, contact=contact, granted=True, source="asked on the phone")
    contact_trash(actor=rep, contact=contact)
    contact_restore(actor=rep, contact=contact)
    assert _version(Contact, contact.pk) == 5
    other = contact_create(actor=rep, first_name="Lena", last_name="L.")
    contact_merge(actor=rep, winner=contact, loser=other, choices={})
    assert (_version(Contact, contact.pk), _version(Contact, other.pk)) == (6, 2)


def test_a_stale_service_call_is_refused_naming_the_change_and_writes_nothing(
    rep: Any, manager: Any
) -> None:
    contact = contact_create(actor=rep, first_name="Lena", last_name="Lind")
    seen = contact.version
    contact_update(actor=manager, contact=contact, job_title="Owner")
    with pytest.raises(StaleEditError) as refused:
        contact_update(actor=rep, contact=contact, expected_version=seen, notes="Likes cake")
    error = refused.value
    assert error.seen_version == seen and error.record.version == seen + 1
    [change] = error.changes
    assert (change.who, change.label, change.before, change.after) == (
        "Mia Manager",
        "Job title",
        "",
        "Owner",
    )
    assert error.message.startswith(
        "“Lena Lind” was changed by someone else since you opened it: Mia Manager changed Job "
        "title from “—” to “Owner” at "
    )
    assert Contact.objects.get(pk=contact.pk).notes == ""
    # the version it now has is accepted
    contact_update(actor=rep, contact=contact, expected_version=seen + 1, notes="Likes cake")
    assert Contact.objects.get(pk=contact.pk).notes == "Likes cake"


def test_a_lead_import_update_takes_the_version_up_and_marks_the_entry(
    admin: Any, run_import: Any
) -> None:
    lead = _lead(admin, owner=admin)
    seen = _version(Lead, lead.pk)
    batch = run_import("email,job_title\nada@x.example,CTO\n", mode="update", match_on="email")
    assert _version(Lead, lead.pk) == seen + 1
    entry = AuditEntry.objects.filter(object_id=lead.pk, action="update").latest("pk")
    assert entry.changes["job_title"] == ["", "CTO"]
    assert entry.changes["import"][1]["id"] == batch.pk
    assert entry.record_version == seen + 1
