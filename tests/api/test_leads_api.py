"""POST /api/v1/leads with token auth: the same rules as every other way in."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from closeloop.accounts.services import api_token_create, api_token_revoke
from closeloop.leads.models import Lead
from closeloop.leads.services import LeadInput, lead_create
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/leads"


@pytest.fixture
def token(rep) -> str:
    return api_token_create(actor=None, user=rep)[1]


def _post(token: str, payload: dict, client: Client | None = None):
    return (client or Client()).post(
        URL, payload, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def test_create_lead_with_attribution(token, rep):
    OrganizationFactory(name="Acme", domain="acme.example")
    response = _post(
        token,
        {
            "first_name": "Ana",
            "last_name": "Lima",
            "email": "Ana@Acme.example",
            "phone": "+49 30 1234567",
            "company_name": "Acme",
            "utm_source": "newsletter",
            "utm_campaign": "spring",
            "marketing_consent": True,
        },
    )
    assert response.status_code == 201, response.content
    data = response.json()
    lead = Lead.objects.get(pk=data["id"])
    assert lead.email == "ana@acme.example"
    assert lead.phone_e164 == "+49301234567"
    assert lead.source.name == "API"
    assert lead.owner == rep and lead.created_by == rep
    assert lead.organization.name == "Acme"
    assert (lead.utm_source, lead.utm_campaign) == ("newsletter", "spring")
    assert lead.marketing_consent and lead.consent_at and lead.consent_method == "API"
    assert data["source"] == "API" and data["owner_email"] == rep.email


def test_duplicate_email_answers_409_and_creates_nothing(token, rep):
    lead_create(actor=rep, data=LeadInput(email="dup@example.com", last_name="First"))
    response = _post(token, {"email": "DUP@example.com", "last_name": "Second"})
    assert response.status_code == 409
    assert "A duplicate" in response.json()["message"]
    assert "email" in response.json()["fields"]
    assert Lead.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"first_name": "x" * 101}, "first_name"),
        ({"last_name": "Ok", "source": "Nowhere"}, "Unknown source"),
        ({"last_name": "Ok", "owner_email": "ghost@example.com"}, "No active user"),
    ],
)
def test_bad_input_is_named(token, payload, fragment):
    response = _post(token, payload)
    assert response.status_code in (400, 422)
    assert fragment in response.content.decode()
    assert not Lead.objects.exists()


def test_a_lead_without_any_identity_is_refused(token):
    response = _post(token, {"job_title": "CEO"})
    assert response.status_code == 400
    assert "needs at least a name" in response.json()["message"]


def test_no_token_bad_token_revoked_token_are_401(rep):
    assert Client().post(URL, {}, content_type="application/json").status_code == 401
    assert _post("cl_wrong", {"last_name": "X"}).status_code == 401
    record, secret = api_token_create(actor=None, user=rep)
    assert _post(secret, {"last_name": "X"}).status_code == 201
    api_token_revoke(actor=None, token=record)
    assert _post(secret, {"last_name": "Y"}).status_code == 401


def test_deactivated_users_token_stops_working(rep, token):
    rep.is_active = False
    rep.save()
    assert _post(token, {"last_name": "X"}).status_code == 401


def test_read_lead_follows_visibility(token, outsider):
    mine = _post(token, {"last_name": "Mine"}).json()["id"]
    theirs = lead_create(actor=outsider, data=LeadInput(last_name="Theirs", owner=outsider)).lead
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert Client().get(f"{URL}/{mine}", **auth).status_code == 200
    assert Client().get(f"{URL}/{theirs.pk}", **auth).status_code == 404


def test_token_command_prints_a_working_token(rep, capsys):
    call_command("token", "create", "--email", rep.email, "--name", "zapier")
    secret = capsys.readouterr().out.strip()
    assert secret.startswith("cl_")
    assert _post(secret, {"last_name": "Via CLI"}).status_code == 201


def test_openapi_schema_is_served():
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/leads" in response.json()["paths"]
