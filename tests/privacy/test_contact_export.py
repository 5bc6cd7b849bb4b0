"""Everything about one contact as a zip (JSON and files): from the contact's page for admins
and managers who see the contact, and as `closeloop gdpr_export CONTACT_ID`."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from closeloop.core.models import AuditEntry

from .conftest import EMAIL, IP, NAME, PHONE, Lena

pytestmark = pytest.mark.django_db


def _unzip(content: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    return json.loads(files.pop("contact.json")), files


def _download(client: Client, lena: Lena) -> Any:
    return client.post(reverse("privacy:contact_export", args=[lena.contact.pk]))


def test_a_manager_downloads_everything_about_the_contact(
    lena: Lena, manager_client: Client, manager: Any
) -> None:
    response = _download(manager_client, lena)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert f'filename="contact-{lena.contact.pk}-export-' in response["Content-Disposition"]
    document, files = _unzip(b"".join(response.streaming_content))

    assert document["format"] == "closeloop-contact-export/1"
    person = document["contact"]
    assert (person["first_name"], person["last_name"], person["notes"]) == (
        "Lena",
        "Lindqvist",
        "Prefers calls after four",
    )
    assert [e["email"] for e in person["emails"]] == [EMAIL]
    assert [p["raw"] for p in person["phones"]] == [PHONE]
    assert person["organization"]["name"] == "Bakery Lind"
    assert [lead["id"] for lead in document["leads"]] == [lena.lead.pk]
    [deal] = document["deals"]
    assert (deal["title"], deal["value"]) == (f"Ovens for {NAME}", "12000.00")
    assert deal["stage_history"]
    bodies = [a["body"] for a in document["activities"]]
    assert "Lena wants a demo on Tuesday" in bodies and f"Call {NAME} about the price" in bodies
    [sent] = document["messages_sent"]
    assert sent["to"] == [f"{NAME} <{EMAIL}>"]
    assert files[sent["attachments"][0]["path"]] == b"Quote for Lena"
    [received] = document["messages_received"]
    assert files[received["attachments"][0]["path"]] == b"floorplan"
    [version] = document["proposal_versions"]
    assert files[version["pdf"]["path"]].startswith(b"%PDF")
    [answer] = document["proposal_answers"]
    assert (answer["comment"], answer["ip_address"]) == ("Lena here: a little cheaper, please", IP)
    [survey] = document["survey_answers"]
    assert survey["response"]["comment"] == "Lena: the oven is great"
    assert survey["response"]["answers"] == {"why": "Friendly people"}
    assert len(document["coupons"]) == 1
    assert [c["granted"] for c in document["consent_changes"]] == [True]
    actions = {(e["record"], e["action"]) for e in document["audit_entries"]}
    assert ("people.contact", "create") in actions and ("pipeline.deal", "create") in actions

    entry = AuditEntry.objects.get(object_id=lena.contact.pk, action="export")
    assert entry.actor == manager and entry.changes["files"] == [None, 3]
    assert "Lena" not in json.dumps(entry.changes)  # the log says how much, not what
    page = manager_client.get(reverse("people:contact_detail", args=[lena.contact.pk]))
    assert "Exported (personal data)" in page.content.decode()


def test_reps_cannot_export_and_a_hidden_contact_is_not_found(
    lena: Lena, rep_client: Client, client_for: Any, other_team: Any
) -> None:
    from closeloop.accounts.choices import Role
    from tests.factories import UserFactory

    assert _download(rep_client, lena).status_code == 403
    stranger = UserFactory(email="m2@example.com", role=Role.MANAGER, teams=[other_team])
    assert _download(client_for(stranger), lena).status_code == 404
    page = rep_client.get(reverse("people:contact_detail", args=[lena.contact.pk]))
    assert reverse("privacy:contact_export", args=[lena.contact.pk]) not in page.content.decode()
    assert not AuditEntry.objects.filter(action="export").exists()


def test_the_command_writes_the_zip(lena: Lena, tmp_path: Any) -> None:
    target = tmp_path / "lena.zip"
    out = io.StringIO()
    call_command("gdpr_export", str(lena.contact.pk), "--to", str(target), stdout=out)
    assert f"Wrote {target}:" in out.getvalue() and "3 files" in out.getvalue()
    document, files = _unzip(target.read_bytes())
    assert document["contact"]["id"] == lena.contact.pk and len(files) == 3
    entry = AuditEntry.objects.get(object_id=lena.contact.pk, action="export")
    assert entry.actor is None
    with pytest.raises(CommandError, match="exists already"):
        call_command("gdpr_export", str(lena.contact.pk), "--to", str(target))
    with pytest.raises(CommandError, match="There is no contact #999999"):
        call_command("gdpr_export", "999999", "--to", str(tmp_path / "x.zip"))
