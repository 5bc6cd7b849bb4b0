"""PATCH of leads and contacts over the API with `expected_version`: a stale one answers 409
naming the change it missed, and writes nothing; the current one is written."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from closeloop.accounts.services import api_token_create
from closeloop.leads.models import Lead
from closeloop.leads.services import LeadInput, lead_create, lead_update
from closeloop.people.models import Contact
from closeloop.people.services import contact_create, contact_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(rep: Any) -> Any:
    token = api_token_create(actor=None, user=rep)[1]
    client = Client()

    def call(method: str, url: str, payload: dict[str, Any] | None = None) -> Any:
        send = getattr(client, method)
        return send(
            url,
            payload or {},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )

    return call


def test_lead_patch_with_a_stale_version_answers_409_and_writes_nothing(
    api: Any, rep: Any, manager: Any
) -> None:
    lead = lead_create(actor=rep, data=LeadInput(first_name="Ada", email="ada@x.example")).lead
    read = api("get", f"/api/v1/leads/{lead.pk}").json()
    lead_update(
        actor=manager,
        lead=lead,
        data=LeadInput(first_name="Ada", email="ada@x.example", job_title="CTO", owner=rep),
    )
    stale = api(
        "patch",
        f"/api/v1/leads/{lead.pk}",
        {"expected_version": read["version"], "job_title": "CEO"},
    )
    assert stale.status_code == 409
    body = stale.json()
    assert body["code"] == "conflict"
    assert "Mia Manager changed Job title from “—” to “CTO” at " in body["message"]
    assert Lead.objects.get(pk=lead.pk).job_title == "CTO"

    fresh = api("get", f"/api/v1/leads/{lead.pk}").json()
    assert fresh["version"] == read["version"] + 1
    done = api(
        "patch",
        f"/api/v1/leads/{lead.pk}",
        {"expected_version": fresh["version"], "job_title": "CEO"},
    )
    assert done.status_code == 200 and done.json()["version"] == fresh["version"] + 1
    assert Lead.objects.get(pk=lead.pk).job_title == "CEO"


def test_contact_patch_with_a_stale_version_answers_409_naming_the_phones(
    api: Any, rep: Any, manager: Any
) -> None:
    from closeloop.people.services import PhoneInput

    contact = contact_create(actor=rep, first_name="Lena", last_name="Lind")
    read = api("get", f"/api/v1/contacts/{contact.pk}").json()
    contact_update(actor=manager, contact=contact, phones=[PhoneInput("+49 30 1234567")])
    stale = api(
        "patch",
        f"/api/v1/contacts/{contact.pk}",
        {"expected_version": read["version"], "phones": []},
    )
    assert stale.status_code == 409
    assert (
        "Mia Manager changed Phones from “—” to “+49 30 1234567 (work)”"
        in (stale.json()["message"])
    )
    assert [p.raw for p in Contact.objects.get(pk=contact.pk).phones.all()] == ["+49 30 1234567"]
    without = api("patch", f"/api/v1/contacts/{contact.pk}", {"job_title": "Owner"})
    assert without.status_code == 200  # no expected_version: the change is written as before
