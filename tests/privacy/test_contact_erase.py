"""Erasing a contact: admins only, with the name typed out; afterwards nothing in the database
or the stored files names her, her addresses are suppressed (hashed), her deals keep their
figures and every report gives the same numbers; the log says it happened, not what was erased."""

from __future__ import annotations

import dataclasses
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from closeloop.core.exceptions import DomainError
from closeloop.core.models import AuditEntry
from closeloop.messaging.consent import email_suppressed, suppressed_among
from closeloop.messaging.models import Suppression
from closeloop.people.models import Contact
from closeloop.pipeline.models import Deal
from closeloop.privacy.services import contact_erase

from .conftest import EMAIL, IP, NAME, PHONE, Lena

pytestmark = pytest.mark.django_db
TRACES = (EMAIL, NAME, "Lindqvist", "Lena", PHONE, "5550123", IP, "Firefox", "floorplan")


def _erase(client: Client, lena: Lena, typed: str) -> Any:
    url = reverse("privacy:contact_erase", args=[lena.contact.pk])
    return client.post(url, {"confirm": typed})


def test_only_admins_erase_and_only_with_the_name_typed_out(
    lena: Lena, rep_client: Client, manager_client: Client, admin_client_: Client
) -> None:
    url = reverse("privacy:contact_erase", args=[lena.contact.pk])
    assert rep_client.get(url).status_code == 403
    assert _erase(manager_client, lena, NAME).status_code == 403
    page = admin_client_.get(url).content.decode()
    assert "What is kept, and why" in page and "1 leads" in page and "1 deals" in page
    wrong = _erase(admin_client_, lena, "Lena")
    assert wrong.status_code == 200
    assert f"That is not “{NAME}”: nothing was erased." in wrong.content.decode()
    assert Contact.objects.get(pk=lena.contact.pk).first_name == "Lena"
    assert not AuditEntry.objects.filter(action="erase").exists()


def _database_text() -> str:
    out = io.StringIO()
    call_command("dumpdata", stdout=out)
    return out.getvalue()


def _stored_files() -> dict[str, bytes]:
    root = Path(settings.MEDIA_ROOT)
    return {str(p): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_after_the_erasure_nothing_stored_names_her_but_her_deal_is_intact(
    lena: Lena, admin_client_: Client, admin: Any
) -> None:
    deal_before = Deal.objects.values("value", "currency", "stage", "status", "owner").get(
        pk=lena.deal.pk
    )
    assert any(trace in _database_text() for trace in TRACES)

    response = _erase(admin_client_, lena, NAME)
    assert response.status_code == 302

    text = _database_text()
    assert [trace for trace in TRACES if trace.lower() in text.lower()] == []
    for path, content in _stored_files().items():
        assert b"Lena" not in content and b"floorplan" not in content, path
    deal = Deal.objects.get(pk=lena.deal.pk)
    assert (
        Deal.objects.values("value", "currency", "stage", "status", "owner").get(pk=deal.pk)
        == deal_before
    )
    assert (deal.title, deal.contact_id) == ("Ovens for (erased)", lena.contact.pk)
    contact = Contact.objects.get(pk=lena.contact.pk)
    assert (contact.full_name, contact.emails.count(), contact.phones.count()) == ("(erased)", 0, 0)
    assert contact.organization == lena.organization  # the company is no person
    lena.survey.refresh_from_db()
    assert (lena.survey.score, lena.survey.comment) == (9, "")

    assert email_suppressed(EMAIL) and email_suppressed(EMAIL.upper())
    assert suppressed_among([f"Someone <{EMAIL}>", "other@example.com"]) == {EMAIL}
    assert list(Suppression.objects.values_list("email", "reason")) == [(None, "erased")]

    entry = AuditEntry.objects.get(object_id=contact.pk, action="erase")
    assert entry.actor == admin
    assert entry.changes["addresses suppressed"] == [None, 1]
    page = admin_client_.get(reverse("people:contact_detail", args=[contact.pk])).content.decode()
    assert "Erased (personal data)" in page
    with pytest.raises(DomainError, match="erased already"):
        contact_erase(actor=admin, contact=contact)


def test_an_erased_proposal_is_printed_again_without_her(
    lena: Lena, admin: Any, admin_client_: Client
) -> None:
    contact_erase(actor=admin, contact=lena.contact)
    lena.version.refresh_from_db()
    assert not lena.version.pdf
    assert lena.version.snapshot["customer"]["contact"] == "(erased)"
    assert lena.version.snapshot["customer"]["email"] == ""
    answer = lena.version.responses.get()
    assert (answer.comment, answer.ip_address, answer.user_agent) == ("", None, "")


def _numbers(rows: list[list[Any]]) -> list[list[Any]]:
    """The figures of a table: numbers as they are, any text as a placeholder."""
    return [[c if isinstance(c, int | float | Decimal) else "·" for c in row] for row in rows]


def _reports(user: Any) -> dict[str, Any]:
    from closeloop.analytics.choices import PeriodPreset
    from closeloop.analytics.figures import dashboard_build
    from closeloop.analytics.filters import ReportFilters, default_pipeline_id
    from closeloop.analytics.results import report_build, report_kinds

    filters = ReportFilters.from_query(
        {"period": PeriodPreset.ALL}, default_pipeline=default_pipeline_id()
    )
    figures: dict[str, Any] = {}
    for kind in report_kinds():
        result = report_build(kind.key, user=user, filters=filters)
        for key, table in result.tables.items():
            figures[f"{kind.key}/{key}"] = _numbers(table.rows)
    board = dashboard_build(user=user, filters=filters)
    figures["dashboard/figures"] = repr(board.figures)
    figures["dashboard/reps"] = repr([dataclasses.astuple(r) for r in board.reps])
    return figures


def test_every_report_gives_the_same_numbers_before_and_after(
    history: Any, today: Any, lena: Lena, admin: Any, manager: Any
) -> None:
    # she is the customer of two closed deals of the known history too
    Deal.objects.filter(pk__in=[history.deals["D1"].pk, history.deals["D2"].pk]).update(
        contact=lena.contact
    )
    before = {"admin": _reports(admin), "manager": _reports(manager)}
    assert len(before["admin"]) >= 8
    contact_erase(actor=admin, contact=lena.contact)
    after = {"admin": _reports(admin), "manager": _reports(manager)}
    for who in before:
        for key, numbers in before[who].items():
            assert after[who][key] == numbers, f"{who}: {key}"
