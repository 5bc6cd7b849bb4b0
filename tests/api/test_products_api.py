"""/api/v1/products: the catalogue read by everyone, changed by admins and managers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from closeloop.accounts.choices import TokenScope
from closeloop.accounts.selectors import workspace_settings
from closeloop.accounts.services import api_token_create
from closeloop.proposals.models import Product
from closeloop.proposals.services import product_create

from .tokens import ApiClient, ids

pytestmark = pytest.mark.django_db
URL = "/api/v1/products"

WEBSITE = {
    "name": "Website build",
    "sku": "WEB-1",
    "unit": "project",
    "unit_price": "4000.00",
    "currency": "eur",
    "tax_rate": "19",
    "floor_price": "3200",
}


def product(admin, **fields) -> Product:
    values = {"unit_price": Decimal("10"), "currency": "EUR", **fields}
    return product_create(actor=admin, **values)


def test_a_manager_creates_reads_and_lists_a_product(manager, rep):
    api = ApiClient(manager)
    response = api.post_json(URL, WEBSITE)
    assert response.status_code == 201, response.content
    body = response.json()
    stored = Product.objects.get(pk=body["id"])
    assert (stored.currency, stored.unit_price, stored.floor_price) == (
        "EUR",
        Decimal("4000"),
        Decimal("3200"),
    )
    assert body["currency"] == "EUR" and body["billing"] == "one_off" and body["is_active"]
    assert Decimal(body["unit_price"]) == Decimal("4000")
    # a rep reads the catalogue
    rep_api = ApiClient(rep)
    assert rep_api.get(f"{URL}/{stored.pk}").json() == body
    assert ids(rep_api.get(URL)) == [stored.pk]


@pytest.mark.parametrize(
    "call",
    [
        lambda api, pk: api.post_json(URL, WEBSITE),
        lambda api, pk: api.patch_json(f"{URL}/{pk}", {"name": "Cheaper"}),
        lambda api, pk: api.delete(f"{URL}/{pk}"),
    ],
)
def test_a_rep_may_not_change_the_catalogue(admin, rep, call):
    existing = product(admin, name="Hosting")
    response = call(ApiClient(rep), existing.pk)
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "forbidden"
    existing.refresh_from_db()
    assert existing.name == "Hosting" and existing.is_active
    assert Product.objects.count() == 1


def test_a_read_only_token_may_not_write(admin):
    api = ApiClient(admin)
    read_only = api_token_create(actor=None, user=admin, scope=TokenScope.READ)[1]
    api.defaults["HTTP_AUTHORIZATION"] = f"Bearer {read_only}"
    assert api.post_json(URL, WEBSITE).status_code == 403
    assert api.get(URL).status_code == 200


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"unit_price": "-1"}, 422, "unit_price"),
        ({"unit_price": "12.34567"}, 422, "unit_price"),
        ({"unit_price": "1" * 17}, 422, "unit_price"),
        ({"unit_price": "NaN"}, 422, "unit_price"),
        ({"floor_price": "5000"}, 400, "floor_price"),
        ({"currency": "EURO"}, 422, "currency"),
        ({"currency": "XYZ"}, 400, "currency"),
        ({"tax_rate": "100.01"}, 422, "tax_rate"),
        ({"tax_rate": "-1"}, 422, "tax_rate"),
        ({"billing": "weekly"}, 422, "billing"),
        ({"name": ""}, 422, "name"),
        ({"name": "   "}, 400, "name"),
    ],
)
def test_bad_values_are_refused_naming_the_field(admin, change, status, field):
    response = ApiClient(admin).post_json(URL, {**WEBSITE, **change})
    assert response.status_code == status, response.content
    assert field in response.json()["fields"]
    assert not Product.objects.exists()


def test_a_taken_sku_is_refused(admin):
    product(admin, name="Old", sku="WEB-1")
    response = ApiClient(admin).post_json(URL, WEBSITE)
    assert response.status_code == 400 and "sku" in response.json()["fields"]


def test_patch_changes_only_the_fields_sent_and_clears_the_floor(admin):
    website = product(admin, name="Website", unit_price=Decimal("4000"), floor_price=Decimal("1"))
    api = ApiClient(admin)
    response = api.patch_json(f"{URL}/{website.pk}", {"unit_price": "4500", "floor_price": None})
    assert response.status_code == 200, response.content
    website.refresh_from_db()
    assert (website.name, website.unit_price, website.floor_price) == (
        "Website",
        Decimal("4500"),
        None,
    )
    below = api.patch_json(f"{URL}/{website.pk}", {"floor_price": "5000"})
    assert below.status_code == 400 and "floor_price" in below.json()["fields"]


def test_delete_deactivates_and_the_product_stays_readable(admin):
    website = product(admin, name="Website")
    api = ApiClient(admin)
    assert api.delete(f"{URL}/{website.pk}").status_code == 204
    website.refresh_from_db()
    assert not website.is_active
    assert api.get(f"{URL}/{website.pk}").json()["is_active"] is False
    assert ids(api.get(f"{URL}?active=active")) == []
    assert ids(api.get(f"{URL}?active=inactive")) == [website.pk]
    again = api.patch_json(f"{URL}/{website.pk}", {"is_active": True})
    assert again.json()["is_active"] is True


def test_a_missing_product_answers_404(admin):
    api = ApiClient(admin)
    assert api.get(f"{URL}/999999").status_code == 404
    assert api.patch_json(f"{URL}/999999", {"name": "x"}).status_code == 404
    assert api.get(f"{URL}/{2**63}").status_code == 422


def test_filters_and_orderings(admin):
    website = product(admin, name="Website", sku="WEB-1", unit_price=Decimal("4000"))
    hosting = product(admin, name="Hosting", sku="HOST-1", billing="monthly")
    support = product(admin, name="Support", currency="USD", billing="yearly", is_active=False)
    api = ApiClient(admin)
    assert ids(api.get(URL)) == [hosting.pk, support.pk, website.pk]
    assert ids(api.get(f"{URL}?q=host")) == [hosting.pk]
    assert ids(api.get(f"{URL}?q=web-1")) == [website.pk]
    assert ids(api.get(f"{URL}?active=active")) == [hosting.pk, website.pk]
    assert ids(api.get(f"{URL}?billing=monthly")) == [hosting.pk]
    assert ids(api.get(f"{URL}?currency=usd")) == [support.pk]
    assert ids(api.get(f"{URL}?ordering=-unit_price")) == [website.pk, support.pk, hosting.pk]
    bad = api.get(f"{URL}?billing=weekly")
    assert bad.status_code == 422 and "billing" in bad.json()["fields"]
    bad = api.get(f"{URL}?ordering=sku")
    assert bad.status_code == 422 and "ordering" in bad.json()["fields"]


def test_pages_follow_the_cursor(admin):
    products = [product(admin, name=f"Product {i:02}") for i in range(5)]
    api = ApiClient(admin)
    first = api.get(f"{URL}?limit=2").json()
    rest = api.get(f"{URL}?limit=10&cursor={first['next_cursor']}").json()
    seen = [i["id"] for i in first["items"]] + [i["id"] for i in rest["items"]]
    assert seen == [p.pk for p in products] and rest["next_cursor"] is None


@pytest.mark.parametrize("rows", [3, 30])
def test_list_query_count_does_not_grow_with_rows(admin, rep, rows, django_assert_max_num_queries):
    workspace_settings()
    api = ApiClient(rep)
    for i in range(rows):
        product(admin, name=f"Product {i:02}")
    with django_assert_max_num_queries(7):
        response = api.get(f"{URL}?limit=50")
    assert len(response.json()["items"]) == rows
