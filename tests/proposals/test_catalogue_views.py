"""Settings → Products, Proposal templates and Discount limits, through the HTTP client."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from closeloop.proposals.models import DiscountLimit, Product, ProposalTemplate
from closeloop.proposals.services import product_create

pytestmark = pytest.mark.django_db

PRODUCT = {
    "name": "Logo design",
    "sku": "LOGO-1",
    "description": "Three drafts, one final",
    "unit": "piece",
    "unit_price": "750",
    "currency": "EUR",
    "tax_rate": "19",
    "floor_price": "600",
    "billing": "one_off",
    "is_active": "on",
}


def test_a_manager_adds_and_edits_a_product(manager_client: Any):
    response = manager_client.post(reverse("proposals:product_create"), PRODUCT)
    assert response.status_code == 302
    product = Product.objects.get(sku="LOGO-1")
    assert product.unit_price == Decimal("750") and product.floor_price == Decimal("600")
    manager_client.post(
        reverse("proposals:product_edit", args=[product.pk]),
        {**PRODUCT, "unit_price": "800", "billing": "yearly"},
    )
    product.refresh_from_db()
    assert product.unit_price == Decimal("800") and product.billing == "yearly"


def test_product_errors_are_shown_on_their_fields(manager_client: Any, website: Product):
    html = manager_client.post(
        reverse("proposals:product_create"), {**PRODUCT, "floor_price": "900"}
    ).content.decode()
    assert "The floor price cannot be above the unit price." in html
    html = manager_client.post(
        reverse("proposals:product_create"), {**PRODUCT, "sku": "WEB-1"}
    ).content.decode()
    assert "Another product has the SKU WEB-1." in html
    assert not Product.objects.filter(name="Logo design").exists()


def test_deactivating_hides_a_product_from_the_active_list(
    manager_client: Any, website: Product, hosting: Product
):
    manager_client.post(
        reverse("proposals:product_active", args=[hosting.pk]), {"is_active": "false"}
    )
    hosting.refresh_from_db()
    assert not hosting.is_active
    url = reverse("proposals:products")
    web, host = (f">{p.name}</a>" for p in (website, hosting))
    active = manager_client.get(url).content.decode()
    assert web in active and host not in active
    assert host in manager_client.get(url, {"active": "inactive"}).content.decode()
    assert host in manager_client.get(url, {"active": "all", "q": "host"}).content.decode()
    assert web not in manager_client.get(url, {"q": "host"}).content.decode()


def test_reps_read_the_catalogue_but_cannot_change_it(rep_client: Any, website: Product):
    page = rep_client.get(reverse("proposals:products")).content.decode()
    assert "Website build" in page
    assert reverse("proposals:product_create") not in page and ">Deactivate</button>" not in page
    assert rep_client.get(reverse("proposals:product_create")).status_code == 403
    assert rep_client.post(reverse("proposals:product_create"), PRODUCT).status_code == 403
    assert (
        rep_client.post(
            reverse("proposals:product_active", args=[website.pk]), {"is_active": "false"}
        ).status_code
        == 403
    )
    website.refresh_from_db()
    assert website.is_active


def test_the_products_list_query_count_is_flat(
    admin: Any, rep_client: Any, django_assert_max_num_queries: Any
):
    for i in range(40):
        product_create(actor=admin, name=f"Item {i}", unit_price="1", currency="EUR")
    with django_assert_max_num_queries(8):
        assert rep_client.get(reverse("proposals:products")).status_code == 200


def _template_post(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Shop package",
        "currency": "EUR",
        "is_active": "on",
        "intro": "Dear {{ contact.first_name }},",
        "closing": "Kind regards, {{ sender.name }}",
        "payment_terms": "instalments",
        "net_days": "30",
        "validity_days": "14",
        "terms_conditions": "Our general terms apply.",
        "inst_label": ["Deposit", "Rest"],
        "inst_percent": ["50", "50"],
        "inst_due": ["acceptance", "Launch"],
        "dlv_label": ["Design", "Launch"],
        "dlv_date": ["", "2027-03-01"],
        "dlv_offset_days": ["10", ""],
        "line_product": [""],
        "line_name": ["Setup"],
        "line_description": [""],
        "line_quantity": ["2"],
        "line_unit": ["hour"],
        "line_unit_price": ["90"],
        "line_discount_kind": ["percent"],
        "line_discount_value": ["0"],
        "line_tax_rate": ["19"],
        "line_billing": ["one_off"],
    }
    data.update(changes)
    return data


def test_a_manager_writes_a_template_with_rows(manager_client: Any, website: Product):
    data = _template_post()
    # a product line with only the product chosen takes the product's defaults
    for name, value in {"product": str(website.pk), "name": "", "description": "",
                        "quantity": "1", "unit": "", "unit_price": "", "discount_kind": "percent",
                        "discount_value": "5", "tax_rate": "", "billing": ""}.items():  # fmt: skip
        data[f"line_{name}"] = [*data[f"line_{name}"], value]
    # an added row left empty is ignored
    for name in ("product", "name", "description", "unit", "unit_price", "tax_rate"):
        data[f"line_{name}"].append("")
    for name, value in (("quantity", "1"), ("discount_kind", "percent"),
                        ("discount_value", "0"), ("billing", "one_off")):  # fmt: skip
        data[f"line_{name}"].append(value)
    response = manager_client.post(reverse("proposals:template_create"), data)
    assert response.status_code == 302
    template = ProposalTemplate.objects.get(name="Shop package")
    assert template.instalments == [
        {"label": "Deposit", "percent": "50", "due": "acceptance"},
        {"label": "Rest", "percent": "50", "due": "Launch"},
    ]
    assert template.delivery == [
        {"label": "Design", "offset_days": 10},
        {"label": "Launch", "date": "2027-03-01"},
    ]
    lines = list(template.lines.all())
    assert [(line.name, line.unit_price, line.tax_rate) for line in lines] == [
        ("Setup", Decimal("90"), Decimal("19")),
        ("Website build", Decimal("4000"), Decimal("19")),
    ]
    assert lines[1].discount_value == Decimal("5")
    page = manager_client.get(response["Location"]).content.decode()
    assert 'value="Deposit"' in page and 'value="2027-03-01"' in page
    assert "{{ contact.first_name }}" in page  # the merge fields are listed


def test_template_errors_name_the_row_or_field(manager_client: Any, web_template: Any):
    url = reverse("proposals:template_create")
    html = manager_client.post(url, _template_post(inst_due=["acceptance", "Go-live"])).content
    assert "“Go-live” is not a date (YYYY-MM-DD)" in html.decode()
    html = manager_client.post(url, _template_post(intro="Hi {{ contact.nickname }}")).content
    assert "Unknown merge field: {{ contact.nickname }}" in html.decode()
    html = manager_client.post(url, _template_post(name="Website package")).content
    assert "A template is already called Website package." in html.decode()
    html = manager_client.post(url, _template_post(dlv_offset_days=["", ""], dlv_date=["", ""]))
    assert "Delivery row 1 (Design) needs a date or days after acceptance." in html.content.decode()
    assert ProposalTemplate.objects.count() == 1


def test_editing_a_template_keeps_what_is_posted(manager_client: Any, web_template: Any):
    url = reverse("proposals:template_edit", args=[web_template.pk])
    page = manager_client.get(url).content.decode()
    assert 'value="Website build"' in page and 'value="Launch"' in page
    response = manager_client.post(url, _template_post(name="Website package", payment_terms="net"))
    assert response.status_code == 302
    web_template.refresh_from_db()
    assert web_template.payment_terms == "net" and web_template.instalments == []
    assert [line.name for line in web_template.lines.all()] == ["Setup"]


def test_reps_read_templates_but_cannot_save_them(rep_client: Any, web_template: Any):
    assert "Website package" in rep_client.get(reverse("proposals:templates")).content.decode()
    url = reverse("proposals:template_edit", args=[web_template.pk])
    page = rep_client.get(url).content.decode()
    assert "Save template" not in page
    assert rep_client.post(url, _template_post(name="Mine")).status_code == 403
    assert rep_client.get(reverse("proposals:template_create")).status_code == 403


def test_an_admin_sets_discount_limits(admin_client_: Any, manager_client: Any):
    url = reverse("proposals:discount_limits")
    assert manager_client.get(url).status_code == 403
    response = admin_client_.post(url, {"rep": "10", "manager": "25", "admin": ""})
    assert response.status_code == 302
    assert dict(DiscountLimit.objects.values_list("role", "max_percent")) == {
        "rep": Decimal("10"),
        "manager": Decimal("25"),
        "admin": None,
    }
    html = admin_client_.post(url, {"rep": "120"}).content.decode()
    assert "less than or equal to 100" in html
