"""What changed between two versions: lines, totals and terms, read from the snapshots."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from closeloop.proposals.diff import version_diff


def line(name: str, product_id: int | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "position": fields.pop("position", 1),
        "product_id": product_id,
        "name": name,
        "description": "",
        "quantity": "1",
        "unit": "piece",
        "unit_price": "100",
        "discount_kind": "percent",
        "discount_value": "0",
        "tax_rate": "19",
        "billing": "one_off",
        "amount": "100.00",
        "discount": "0.00",
        "net": "100.00",
        **fields,
    }


def snapshot(lines: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return {
        "format": 1,
        "title": "Website",
        "currency": "EUR",
        "intro": "Hello",
        "closing": "Bye",
        "payment_terms": "net",
        "net_days": 30,
        "instalments": [],
        "delivery": [],
        "validity_days": 30,
        "terms_conditions": "",
        "valid_until": "2026-12-31",
        "lines": lines,
        "totals": {
            "currency": "EUR",
            "by_billing": [
                {
                    "billing": "one_off",
                    "subtotal": "100.00",
                    "discount": "0.00",
                    "net": "100.00",
                    "tax": "19.00",
                    "total": "119.00",
                }
            ],
        },
        **fields,
    }


def test_the_first_version_has_nothing_to_compare():
    assert version_diff(None, snapshot([line("Website")])).is_empty


def test_lines_added_removed_and_changed_field_by_field():
    old = snapshot(
        [
            line("Website build", 1, quantity="1", unit_price="4000"),
            line("Hosting", 2, billing="monthly"),
            line("Logo design", position=3),
        ]
    )
    new = snapshot(
        [
            # renamed, but the same product: a change, not a new line
            line("Website build (shop)", 1, quantity="2", unit_price="3800.00", net="7600.00"),
            line("Hosting", 2, billing="yearly", discount_value="10", description="EU region"),
            line("Training", position=3),
        ]
    )
    diff = version_diff(old, new)
    assert [row["name"] for row in diff.added] == ["Training"]
    assert [row["name"] for row in diff.removed] == ["Logo design"]
    website, hosting = diff.changed
    assert {(c.field, c.old, c.new) for c in website.changes} == {
        ("name", "Website build", "Website build (shop)"),
        ("quantity", "1", "2"),
        ("unit_price", "4000", "3800"),
    }
    assert (website.old_net, website.new_net) == ("100", "7600")
    assert {(c.field, c.old, c.new) for c in hosting.changes} == {
        ("billing", "Monthly", "Yearly"),
        ("discount", "0 %", "10 %"),
        ("description", "", ""),
    }


def test_free_text_lines_are_matched_by_name_ignoring_case_and_spaces():
    old = snapshot([line("Logo  design", unit_price="500")])
    new = snapshot([line("logo design", unit_price="450")])
    diff = version_diff(old, new)
    assert not diff.added and not diff.removed
    (change,) = diff.changed
    assert [(c.field, c.old, c.new) for c in change.changes] == [
        ("name", "Logo  design", "logo design"),
        ("unit_price", "500", "450"),
    ]


def test_the_same_numbers_written_differently_are_no_change():
    old = snapshot([line("A", 7, quantity="2", unit_price="10", tax_rate="19")])
    new = snapshot([line("A", 7, quantity="2.000", unit_price="10.00", tax_rate="19.0")])
    assert version_diff(old, new).is_empty


def test_a_percent_discount_becoming_an_amount_is_a_discount_change():
    old = snapshot([line("A", 7, discount_value="10")])
    new = snapshot([line("A", 7, discount_kind="amount", discount_value="10")])
    (change,) = version_diff(old, new).changed
    assert [(c.old, c.new) for c in change.changes] == [("10 %", "10 EUR")]


def test_two_lines_of_one_product_pair_up_in_order():
    old = snapshot([line("Day of work", 5, quantity="1"), line("Day of work", 5, quantity="3")])
    new = snapshot([line("Day of work", 5, quantity="1")])
    diff = version_diff(old, new)
    assert not diff.changed and [r["quantity"] for r in diff.removed] == ["3"]


def test_totals_changed_per_billing_kind():
    old = snapshot([line("A")])
    new = copy.deepcopy(old)
    new["totals"]["by_billing"][0].update(discount="10.00", tax="17.10", total="107.10")
    new["totals"]["by_billing"].append(
        {"billing": "monthly", "subtotal": "49.00", "total": "58.31"}
    )
    diff = version_diff(old, new)
    one_off, monthly = diff.totals
    assert one_off.label == "One-off"
    assert [(c.field, c.old, c.new) for c in one_off.changes] == [
        ("discount", "0", "10"),
        ("tax", "19", "17.1"),
        ("total", "119", "107.1"),
    ]
    assert monthly.label == "Monthly"
    assert ("total", "0", "58.31") in [(c.field, c.old, c.new) for c in monthly.changes]


def test_terms_schedule_and_texts():
    old = snapshot(
        [line("A")],
        net_days=30,
        delivery=[{"label": "Design", "offset_days": 14}, {"label": "Launch", "offset_days": 42}],
        terms_conditions="Old terms",
    )
    new = snapshot(
        [line("A")],
        net_days=60,
        validity_days=14,
        valid_until="2026-12-14",
        delivery=[
            {"label": "Design", "date": "2027-01-10"},
            {"label": "Training", "offset_days": 50},
        ],
        terms_conditions="New terms",
        intro="Hello again",
    )
    diff = version_diff(old, new)
    terms = {c.field: c for c in diff.terms}
    assert (terms["net_days"].old, terms["net_days"].new) == ("net 30 days", "net 60 days")
    assert (terms["validity_days"].old, terms["validity_days"].new) == ("30 days", "14 days")
    assert terms["valid_until"].new == "2026-12-14"
    assert terms["terms_conditions"].text and terms["intro"].text
    assert "closing" not in terms
    assert [(r.kind, r.label, r.old, r.new) for r in diff.delivery] == [
        ("changed", "Design", "14 days after acceptance", "2027-01-10"),
        ("removed", "Launch", "42 days after acceptance", ""),
        ("added", "Training", "", "50 days after acceptance"),
    ]


def test_instalments_replace_net_days():
    old = snapshot([line("A")], payment_terms="net", net_days=30)
    new = snapshot(
        [line("A")],
        payment_terms="instalments",
        net_days=30,
        instalments=[
            {"label": "Deposit", "percent": "30", "due": "acceptance"},
            {"label": "Rest", "percent": "70", "due": "2027-02-01"},
        ],
    )
    diff = version_diff(old, new)
    assert [(c.field, c.old, c.new) for c in diff.terms] == [
        ("payment_terms", "Net days", "Instalments")
    ]
    assert [(r.kind, r.new) for r in diff.instalments] == [
        ("added", "30 % on acceptance"),
        ("added", "70 % due 2027-02-01"),
    ]
    later = copy.deepcopy(new)
    later["instalments"][0]["percent"] = "50"
    later["instalments"][1]["percent"] = "50"
    later["net_days"] = 45  # says nothing while paying in instalments
    diff = version_diff(new, later)
    assert not diff.terms
    assert [(r.label, r.old, r.new) for r in diff.instalments] == [
        ("Deposit", "30 % on acceptance", "50 % on acceptance"),
        ("Rest", "70 % due 2027-02-01", "50 % due 2027-02-01"),
    ]


names = st.sampled_from(["Website", "Hosting", "Logo", "Training", "Support"])
numbers = st.sampled_from(["1", "2", "2.5", "10", "100", "0.33"])
lines_strategy = st.lists(
    st.builds(
        lambda name, product, quantity, price, discount, billing: line(
            name,
            product,
            quantity=quantity,
            unit_price=price,
            discount_value=discount,
            billing=billing,
        ),
        names,
        st.one_of(st.none(), st.integers(1, 4)),
        numbers,
        numbers,
        numbers,
        st.sampled_from(["one_off", "monthly", "yearly"]),
    ),
    max_size=6,
)
snapshots = st.builds(
    lambda lines, net_days, validity: snapshot(lines, net_days=net_days, validity_days=validity),
    lines_strategy,
    st.sampled_from([14, 30, 60]),
    st.sampled_from([14, 30]),
)


# the machine is shared: generating snapshots may be slow, which says nothing about the diff
relaxed = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@relaxed
@given(snapshots)
def test_a_version_compared_with_itself_has_no_changes(one: dict[str, Any]):
    assert version_diff(one, copy.deepcopy(one)).is_empty


@relaxed
@given(snapshots, snapshots)
def test_added_and_removed_swap_when_the_versions_swap(a: dict[str, Any], b: dict[str, Any]):
    forward, backward = version_diff(a, b), version_diff(b, a)
    assert forward.added == backward.removed
    assert forward.removed == backward.added
    assert len(forward.changed) == len(backward.changed)
    for there, back in zip(
        sorted(forward.changed, key=lambda c: [(x.field, x.new) for x in c.changes]),
        sorted(backward.changed, key=lambda c: [(x.field, x.old) for x in c.changes]),
        strict=True,
    ):
        assert [(c.field, c.old, c.new) for c in there.changes] == [
            (c.field, c.new, c.old) for c in back.changes
        ]
    assert [(c.field, c.old, c.new) for c in forward.terms] == [
        (c.field, c.new, c.old) for c in backward.terms
    ]
    # every line is accounted for exactly once on each side
    matched = len(a["lines"]) - len(forward.removed)
    assert matched == len(b["lines"]) - len(forward.added)
