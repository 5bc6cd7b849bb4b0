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
from types import SimpleNamespace
from typing import Any

import pytest

from closeloop.aftersales.coupons import coupon_issue
from closeloop.api.api import api
from closeloop.integrations.models import WebhookDelivery
from closeloop.integrations.services.subscriptions import webhook_subscription_create
from closeloop.leads.models import Campaign, DisqualifyReason, Source
from closeloop.leads.services.inputs import LeadInput
from closeloop.leads.services.leads import lead_create
from closeloop.pipeline.models import LostReason
from tests.factories import ContactFactory, OrganizationFactory

from .tokens import ApiClient

pytestmark = pytest.mark.django_db
ROLES = ("rep", "manager", "admin")


@dataclass(frozen=True)
class Owned:
    """`url` (and `body`, `query`) name the outsider's records as {lead}, {contact}…; `listed`
    is the record a list route must leave out for the rep and the manager."""

    url: str
    body: dict[str, Any] | None = None
    query: dict[str, Any] = field(default_factory=dict)
    listed: str = ""


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
def records(outsider, admin) -> SimpleNamespace:
    """The outsider's records, and the workspace's lists, by the names the rules use."""
    organization = OrganizationFactory(name="Outsider GmbH", owner=outsider)
    contact = ContactFactory(first_name="Olaf", owner=outsider, organization=organization)
    other = ContactFactory(first_name="Olaf (again)", owner=outsider, organization=organization)
    lead = lead_create(
        actor=outsider,
        data=LeadInput(last_name="Outsider's lead", email="o@outsider.example", owner=outsider),
    ).lead
    subscription = webhook_subscription_create(
        actor=outsider, url="https://hooks.example/in", events=["lead.created"]
    )
    delivery = WebhookDelivery.objects.filter(subscription=subscription).first()
    if delivery is None:  # no event since it subscribed: one for its log
        lead_create(actor=outsider, data=LeadInput(last_name="Second", owner=outsider))
        delivery = WebhookDelivery.objects.filter(subscription=subscription).first()
    coupon = coupon_issue(actor=admin, kind="percent", value=10, code="SPRING10", max_uses=5)
    customer_coupon = coupon_issue(actor=admin, kind="percent", value=5, contact=contact)
    discard = DisqualifyReason.objects.filter(is_active=True).first()
    return SimpleNamespace(
        organization=organization.pk,
        contact=contact.pk,
        other_contact=other.pk,
        lead=lead.pk,
        subscription=subscription.pk,
        delivery=delivery.pk if delivery else 0,
        coupon=coupon.code,
        customer_coupon=customer_coupon.pk,
        customer_coupon_code=customer_coupon.code,
        outsider=outsider.pk,
        lost_reason=LostReason.objects.first().pk,
        discard_reason=discard.pk,
        discard_reason_name=discard.name,
        campaign=Campaign.objects.create(name="Fair").pk,
        source=Source.objects.first().pk,
    )


def _fill(value: Any, records: SimpleNamespace) -> Any:
    """Put the records' ids into a rule's url, query or body ("{contact}" → 17)."""
    if isinstance(value, dict):
        return {k: _fill(v, records) for k, v in value.items()}
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return getattr(records, value[1:-1])
    if isinstance(value, str):
        return value.format(**vars(records))
    return value


def _call(client: Any, method: str, url: str, body: Any, query: dict[str, Any]) -> Any:
    if method == "GET":
        return client.get(url, query)
    call: Callable[..., Any] = getattr(client, method.lower())
    return call(url, body if body is not None else {}, content_type="application/json")


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_who_gets_what(method, path, records, rep, manager, admin, client):
    rule = RULES.get((method, path))
    if rule is None:
        pytest.fail(f"no rule for {method} {path}")
    url = V1 + _fill(rule.url, records)
    body = _fill(getattr(rule, "body", None), records)
    query = _fill(getattr(rule, "query", {}), records)
    assert _call(client, method, url, body, query).status_code == 401, "no token: 401"
    users = {"rep": rep, "manager": manager, "admin": admin}
    for role in ROLES:  # the admin last: an allowed write may change or trash the record
        response = _call(ApiClient(users[role]), method, url, body, query)
        status = response.status_code
        assert status < 500, (role, response.content)
        if isinstance(rule, Owned) and rule.listed:
            assert status == 200, (role, response.content)
            listed = {item["id"] for item in response.json()["items"]}
            hidden = getattr(records, rule.listed)
            assert (hidden in listed) == (role == "admin"), (role, hidden, listed)
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
