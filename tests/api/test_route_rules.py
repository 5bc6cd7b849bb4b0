"""Every API route, called without a token and as a rep, a manager and an admin: who gets what.

Each operation in the OpenAPI description has a rule in RULES, and a route added without one
fails `test_every_route_has_a_rule`: nobody adds an endpoint without deciding who may use it.

- `Owned`: the route reads, lists or changes records under the visibility rules. The records
  are owned by a rep of another team ("the outsider"): the rep and the rep's manager get 404 for
  them (a list leaves them out), an admin reaches them.
- `Roles`: the route is for some roles only; the others get 403 and change nothing.
- `Everyone`: any caller with a token.

Without a token every route answers 401.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from closeloop.api.api import api
from closeloop.leads.services.inputs import LeadInput
from closeloop.leads.services.leads import lead_create
from tests.route_records import Records, fill

from .tokens import ApiClient

pytestmark = pytest.mark.django_db
ROLES = ("rep", "manager", "admin")


@dataclass(frozen=True)
class Owned:
    """`url` (and `body`, `query`) name the outsider's records as {lead}, {contact}…; `listed`
    is the record a list route must leave out for the rep and the manager; `ref_field` marks a
    create whose body names the outsider's record."""

    url: str
    body: dict[str, Any] | None = None
    query: dict[str, Any] = field(default_factory=dict)
    listed: str = ""
    # a create naming the record in its body: refused as a 404 or as a 400 naming this field
    ref_field: str = ""


@dataclass(frozen=True)
class Roles:
    url: str
    allowed: tuple[str, ...]
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class Everyone:
    url: str
    query: dict[str, Any] = field(default_factory=dict)


Rule = Owned | Roles | Everyone
V1 = "/api/v1"
MANAGERS = ("manager", "admin")

RULES: dict[tuple[str, str], Rule] = {
    # leads
    ("GET", "/leads"): Owned("/leads", query={"limit": 200}, listed="lead"),
    ("POST", "/leads"): Everyone("/leads"),
    ("GET", "/leads/{lead_id}"): Owned("/leads/{lead}"),
    ("PATCH", "/leads/{lead_id}"): Owned("/leads/{lead}", body={"job_title": "CFO"}),
    ("DELETE", "/leads/{lead_id}"): Owned("/leads/{lead}"),
    ("POST", "/leads/{lead_id}/qualify"): Owned("/leads/{lead}/qualify", body={}),
    ("POST", "/leads/{lead_id}/nurture"): Owned(
        "/leads/{lead}/nurture", body={"reason": "Budget next year", "until": "2030-01-15"}
    ),
    ("POST", "/leads/{lead_id}/disqualify"): Owned(
        "/leads/{lead}/disqualify", body={"reason": "{discard_reason_name}"}
    ),
    # organizations and contacts
    ("GET", "/organizations"): Owned("/organizations", query={"limit": 200}, listed="organization"),
    ("POST", "/organizations"): Everyone("/organizations"),
    ("GET", "/organizations/{organization_id}"): Owned("/organizations/{organization}"),
    ("PATCH", "/organizations/{organization_id}"): Owned(
        "/organizations/{organization}", body={"industry": "Bakeries"}
    ),
    ("DELETE", "/organizations/{organization_id}"): Owned("/organizations/{organization}"),
    ("GET", "/contacts"): Owned("/contacts", query={"limit": 200}, listed="contact"),
    ("POST", "/contacts"): Everyone("/contacts"),
    ("GET", "/contacts/{contact_id}"): Owned("/contacts/{contact}"),
    ("PATCH", "/contacts/{contact_id}"): Owned("/contacts/{contact}", body={"job_title": "CFO"}),
    ("DELETE", "/contacts/{contact_id}"): Owned("/contacts/{contact}"),
    ("POST", "/contacts/{contact_id}/merge"): Owned(
        "/contacts/{contact}/merge", body={"other_id": "{other_contact}"}
    ),
    # coupons: the customer named must be visible (a campaign code is everyone's)
    ("GET", "/coupons"): Owned("/coupons", query={"limit": 200}, listed="customer_coupon"),
    ("POST", "/coupons"): Owned(
        "/coupons", body={"kind": "percent", "value": "10", "contact_id": "{contact}"}
    ),
    ("DELETE", "/coupons/{code}"): Owned("/coupons/{customer_coupon_code}"),
    ("GET", "/coupons/{code}"): Owned(
        "/coupons/{coupon}", query={"order_value": "100", "contact_id": "{contact}"}
    ),
    ("POST", "/coupons/{code}/redeem"): Owned(
        "/coupons/{coupon}/redeem", body={"order_value": "100", "contact_id": "{contact}"}
    ),
    # webhooks: admins manage every subscription, everyone else their own
    ("GET", "/webhooks/events"): Everyone("/webhooks/events"),
    ("GET", "/webhooks"): Owned("/webhooks", listed="subscription"),
    ("POST", "/webhooks"): Everyone("/webhooks"),
    ("GET", "/webhooks/{subscription_id}"): Owned("/webhooks/{subscription}"),
    ("PATCH", "/webhooks/{subscription_id}"): Owned(
        "/webhooks/{subscription}", body={"description": "Shop"}
    ),
    ("DELETE", "/webhooks/{subscription_id}"): Owned("/webhooks/{subscription}"),
    ("POST", "/webhooks/{subscription_id}/rotate-secret"): Owned(
        "/webhooks/{subscription}/rotate-secret", body={}
    ),
    ("GET", "/webhooks/{subscription_id}/deliveries"): Owned("/webhooks/{subscription}/deliveries"),
    ("POST", "/webhooks/deliveries/{delivery_id}/redeliver"): Owned(
        "/webhooks/deliveries/{delivery}/redeliver", body={}
    ),
    # users: who records can be assigned to, readable by every token
    ("GET", "/users"): Everyone("/users"),
    ("GET", "/users/me"): Everyone("/users/me"),
    ("GET", "/users/{user_id}"): Everyone("/users/{outsider}"),
    # the workspace's lists: everyone reads them; managers and admins keep most of them
    ("GET", "/lost-reasons"): Everyone("/lost-reasons"),
    ("POST", "/lost-reasons"): Roles("/lost-reasons", MANAGERS, body={"name": "Went quiet"}),
    ("GET", "/lost-reasons/{reason_id}"): Everyone("/lost-reasons/{lost_reason}"),
    ("PATCH", "/lost-reasons/{reason_id}"): Roles(
        "/lost-reasons/{lost_reason}", MANAGERS, body={"name": "Price (too high)"}
    ),
    ("POST", "/lost-reasons/{reason_id}/deactivate"): Roles(
        "/lost-reasons/{lost_reason}/deactivate", MANAGERS, body={}
    ),
    ("GET", "/discard-reasons"): Everyone("/discard-reasons"),
    ("POST", "/discard-reasons"): Roles("/discard-reasons", ("admin",), body={"name": "Bot"}),
    ("GET", "/discard-reasons/{reason_id}"): Everyone("/discard-reasons/{discard_reason}"),
    ("PATCH", "/discard-reasons/{reason_id}"): Roles(
        "/discard-reasons/{discard_reason}", ("admin",), body={"name": "Spam (bot)"}
    ),
    ("POST", "/discard-reasons/{reason_id}/deactivate"): Roles(
        "/discard-reasons/{discard_reason}/deactivate", ("admin",), body={}
    ),
    ("GET", "/campaigns"): Everyone("/campaigns"),
    ("POST", "/campaigns"): Roles("/campaigns", MANAGERS, body={"name": "Spring fair"}),
    ("GET", "/campaigns/{campaign_id}"): Everyone("/campaigns/{campaign}"),
    ("PATCH", "/campaigns/{campaign_id}"): Roles(
        "/campaigns/{campaign}", MANAGERS, body={"name": "Autumn fair"}
    ),
    ("GET", "/sources"): Everyone("/sources"),
    ("POST", "/sources"): Roles("/sources", MANAGERS, body={"name": "Trade fair"}),
    ("GET", "/sources/{source_id}"): Everyone("/sources/{source}"),
    ("PATCH", "/sources/{source_id}"): Roles(
        "/sources/{source}", MANAGERS, body={"name": "Trade fairs"}
    ),
    # the catalogue: read by everyone, kept by managers and admins
    ("GET", "/products"): Everyone("/products"),
    ("POST", "/products"): Roles(
        "/products", MANAGERS, body={"name": "Audit", "unit_price": "100", "currency": "EUR"}
    ),
    ("GET", "/products/{product_id}"): Everyone("/products/{product_id}"),
    ("PATCH", "/products/{product_id}"): Roles(
        "/products/{product_id}", MANAGERS, body={"description": "Five pages"}
    ),
    ("DELETE", "/products/{product_id}"): Roles("/products/{product_id}", MANAGERS),
    # proposals follow their deal
    ("GET", "/proposals"): Owned("/proposals", listed="proposal"),
    ("POST", "/proposals"): Owned("/proposals", body={"deal_id": "{deal}"}, ref_field="deal_id"),
    ("GET", "/proposals/{proposal_id}"): Owned("/proposals/{proposal}"),
    ("PATCH", "/proposals/{proposal_id}"): Owned(
        "/proposals/{proposal}", body={"expected_version": "{proposal_version}", "title": "V2"}
    ),
    ("POST", "/proposals/{proposal_id}/send"): Owned("/proposals/{proposal}/send", body={}),
    ("GET", "/proposals/{proposal_id}/pdf"): Owned("/proposals/{proposal}/pdf"),
    # surveys are read by everyone; their answers follow the customer's owner
    ("GET", "/surveys"): Everyone("/surveys"),
    ("GET", "/surveys/{survey_id}"): Everyone("/surveys/{survey}"),
    ("GET", "/surveys/responses"): Owned("/surveys/responses", listed="survey_response"),
    ("GET", "/surveys/{survey_id}/responses"): Owned(
        "/surveys/{survey}/responses", listed="survey_response"
    ),
    # pipelines and stages: read by everyone, set up by managers and admins (as the pages)
    ("GET", "/pipelines"): Everyone("/pipelines"),
    ("POST", "/pipelines"): Roles("/pipelines", MANAGERS, body={"name": "Renewals {serial}"}),
    ("GET", "/pipelines/{pipeline_id}"): Everyone("/pipelines/{pipeline}"),
    ("PATCH", "/pipelines/{pipeline_id}"): Roles(
        "/pipelines/{pipeline}", MANAGERS, body={"name": "Sales {serial}"}
    ),
    ("GET", "/pipelines/{pipeline_id}/stages"): Everyone("/pipelines/{pipeline}/stages"),
    ("POST", "/pipelines/{pipeline_id}/stages"): Roles(
        "/pipelines/{pipeline}/stages", MANAGERS, body={"name": "Contract {serial}"}
    ),
    ("GET", "/pipelines/{pipeline_id}/stages/{stage_id}"): Everyone(
        "/pipelines/{pipeline}/stages/{stage}"
    ),
    ("PATCH", "/pipelines/{pipeline_id}/stages/{stage_id}"): Roles(
        "/pipelines/{pipeline}/stages/{stage}", MANAGERS, body={"name": "Qualified {serial}"}
    ),
    ("DELETE", "/pipelines/{pipeline_id}/stages/{stage_id}"): Roles(
        "/pipelines/{pipeline}/stages/{spare_stage}", MANAGERS
    ),
    # deals and their actions
    ("GET", "/deals"): Owned("/deals", query={"limit": 200}, listed="deal"),
    ("POST", "/deals"): Everyone("/deals"),
    ("GET", "/deals/{deal_id}"): Owned("/deals/{deal}"),
    ("PATCH", "/deals/{deal_id}"): Owned("/deals/{deal}", body={"title": "Bigger deal"}),
    ("DELETE", "/deals/{deal_id}"): Owned("/deals/{deal}"),
    ("POST", "/deals/{deal_id}/move"): Owned("/deals/{deal}/move", body={"stage_id": "{stage}"}),
    ("POST", "/deals/{deal_id}/win"): Owned("/deals/{deal}/win", body={}),
    ("POST", "/deals/{deal_id}/lose"): Owned(
        "/deals/{deal}/lose", body={"reason_id": "{lost_reason}"}
    ),
    ("POST", "/deals/{deal_id}/reopen"): Owned("/deals/{deal}/reopen", body={}),
    # activities follow what they are about and who does them
    ("GET", "/activities"): Owned("/activities", query={"limit": 200}, listed="activity"),
    ("POST", "/activities"): Owned(
        "/activities",
        body={
            "kind": "call",
            "subject": "Call",
            "starts_at": "2030-01-07T10:00:00+00:00",
            "deal_id": "{deal}",
        },
        ref_field="deal_id",
    ),
    ("GET", "/activities/{activity_id}"): Owned("/activities/{activity}"),
    ("PATCH", "/activities/{activity_id}"): Owned(
        "/activities/{activity}", body={"subject": "Call back"}
    ),
    ("DELETE", "/activities/{activity_id}"): Owned("/activities/{activity}"),
    ("POST", "/activities/{activity_id}/complete"): Owned(
        "/activities/{activity}/complete", body={}
    ),
}


def _routes() -> list[tuple[str, str]]:
    paths = api.get_openapi_schema()["paths"]
    return sorted(
        (method.upper(), path.removeprefix(V1)) for path, ops in paths.items() for method in ops
    )


ROUTES = _routes()


def test_every_route_has_a_rule():
    assert sorted(set(ROUTES) - set(RULES)) == [], "add a rule to RULES for these routes"
    assert sorted(set(RULES) - set(ROUTES)) == [], "these rules name routes that are gone"


@pytest.fixture
def records(outsider, admin) -> Records:
    return Records(outsider, admin)


def _call(client: Any, method: str, url: str, body: Any, query: dict[str, Any]) -> Any:
    if method == "GET":
        return client.get(url, query)
    call: Callable[..., Any] = getattr(client, method.lower())
    return call(url, body if body is not None else {}, content_type="application/json")


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_who_gets_what(method, path, records, rep, manager, admin, outsider, client):
    rule = RULES.get((method, path))
    if rule is None:
        pytest.fail(f"no rule for {method} {path}")
    if isinstance(rule, Owned) and rule.listed:
        records[rule.listed]  # made before the calls, so a list could show it
    url = V1 + fill(rule.url, records)
    body = fill(getattr(rule, "body", None), records)
    query = fill(getattr(rule, "query", {}), records)
    assert _call(client, method, url, body, query).status_code == 401, "no token: 401"
    users = {"rep": rep, "manager": manager, "admin": admin}
    for serial, role in enumerate(ROLES):  # the admin last: a write may change or trash the record
        if isinstance(rule, Roles):  # each role its own records: a manager's delete was allowed
            fresh = Records(outsider, admin, serial + 1)
            url, body = V1 + fill(rule.url, fresh), fill(rule.body, fresh)
        response = _call(ApiClient(users[role]), method, url, body, query)
        status = response.status_code
        assert status < 500, (role, response.content)
        if isinstance(rule, Owned) and rule.listed:
            assert status == 200, (role, response.content)
            listed = {item["id"] for item in response.json()["items"]}
            hidden = records[rule.listed]
            assert (hidden in listed) == (role == "admin"), (role, hidden, listed)
        elif isinstance(rule, Owned) and rule.ref_field and role != "admin":
            assert status in (400, 404), (role, status, response.content)
            if status == 400:
                assert rule.ref_field in response.json()["fields"], response.content
        elif isinstance(rule, Owned):
            if role == "admin":
                assert status not in (401, 403, 404), (role, response.content)
            else:
                assert status == 404, (role, status, response.content)
        elif isinstance(rule, Roles):
            if role in rule.allowed:
                assert status not in (401, 403, 404), (role, response.content)
            else:
                assert status == 403, (role, status, response.content)
        else:
            assert status not in (401, 403, 404), (role, response.content)


def test_a_manager_reaches_the_records_of_the_team(rep, manager):
    """The other side of Owned: the manager's own team's records are reachable."""
    lead = lead_create(actor=rep, data=LeadInput(last_name="Team lead", owner=rep)).lead
    api_client = ApiClient(manager)
    assert api_client.get(f"{V1}/leads/{lead.pk}").status_code == 200
    assert lead.pk in {item["id"] for item in api_client.get(f"{V1}/leads").json()["items"]}
