"""Sales targets: who may set whose, bad input named by field, and the targets page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from closeloop.analytics.models import SalesTarget
from closeloop.analytics.services import sales_target_set, sales_targets_set_month
from closeloop.core.exceptions import DomainError

MARCH = dt.date(2026, 3, 1)


def stored() -> list[tuple[str, str, str, Decimal, str]]:
    return [
        (t.user.email, f"{t.month:%Y-%m-%d}", t.metric, t.amount, t.set_by.email)
        for t in SalesTarget.objects.order_by("user__email", "metric")
    ]


def test_a_manager_sets_a_target_for_a_rep_of_their_team(manager, rep):
    target = sales_target_set(
        actor=manager, user=rep, month=dt.date(2026, 3, 17), metric="won_value", amount="12 500,50"
    )
    assert target is not None
    # any day of the month stands for the month
    assert stored() == [("rep@example.com", "2026-03-01", "won_value", Decimal("12500.50"),
                         "manager@example.com")]  # fmt: skip


def test_setting_again_replaces_and_an_empty_amount_removes(admin, manager, rep):
    sales_target_set(actor=admin, user=rep, month=MARCH, metric="won_deals", amount=3)
    sales_target_set(actor=manager, user=rep, month=MARCH, metric="won_deals", amount="4")
    assert stored() == [
        ("rep@example.com", "2026-03-01", "won_deals", Decimal("4.00"), "manager@example.com")
    ]
    removed = sales_target_set(actor=manager, user=rep, month=MARCH, metric="won_deals", amount="")
    assert removed is None
    assert stored() == []


def test_an_admin_sets_anyone_including_managers_and_other_teams(admin, manager, outsider):
    for person in (manager, outsider, admin):
        sales_target_set(actor=admin, user=person, month=MARCH, metric="new_deals", amount=5)
    assert SalesTarget.objects.count() == 3


@pytest.mark.parametrize("who", ["outsider", "manager"])
def test_a_manager_cannot_set_other_teams_or_their_own(request, manager, who):
    person = request.getfixturevalue(who)
    with pytest.raises(DomainError) as error:
        sales_target_set(actor=manager, user=person, month=MARCH, metric="won_value", amount=1)
    assert error.value.field == "user"
    assert SalesTarget.objects.count() == 0


def test_a_rep_cannot_set_targets_even_their_own(rep, teammate):
    for person in (rep, teammate):
        with pytest.raises(DomainError) as error:
            sales_target_set(actor=rep, user=person, month=MARCH, metric="won_value", amount=1)
        assert error.value.field == "user"


@pytest.mark.parametrize(
    ("month", "metric", "amount", "field", "message"),
    [
        ("2026-03", "won_value", 1, "month", "Choose a month."),
        (MARCH, "calls", 1, "metric", "Choose won value, deals won or deals created."),
        (MARCH, "won_value", "lots", "amount", "“lots” is not an amount."),
        (MARCH, "won_value", "-5", "amount", "A target cannot be negative."),
        (MARCH, "won_value", "1e15", "amount", "This target is too large."),
        (MARCH, "won_deals", "2.5", "amount", "A number of deals must be a whole number."),
        (MARCH, "new_deals", "0.5", "amount", "A number of deals must be a whole number."),
    ],
)
def test_bad_input_is_refused_naming_the_field(manager, rep, month, metric, amount, field, message):
    with pytest.raises(DomainError) as error:
        sales_target_set(actor=manager, user=rep, month=month, metric=metric, amount=amount)
    assert (error.value.field, error.value.message) == (field, message)
    assert SalesTarget.objects.count() == 0


def test_a_month_is_saved_all_or_nothing(manager, rep, teammate):
    with pytest.raises(DomainError) as error:
        sales_targets_set_month(
            actor=manager,
            month=MARCH,
            amounts={(rep, "won_value"): "1000", (teammate, "won_deals"): "1.5"},
        )
    assert error.value.field == f"{teammate.pk}-won_deals"
    assert error.value.message == (
        "Tom Teammate, deals won: A number of deals must be a whole number."
    )
    assert SalesTarget.objects.count() == 0
    changed = sales_targets_set_month(
        actor=manager,
        month=MARCH,
        amounts={(rep, "won_value"): "1000", (teammate, "won_deals"): "2", (rep, "new_deals"): ""},
    )
    assert changed == 2
    # unchanged amounts are left alone, so they keep who set them
    again = {(rep, "won_value"): "1000.00"}
    assert sales_targets_set_month(actor=manager, month=MARCH, amounts=again) == 0


# --- the page -------------------------------------------------------------------------------


def test_a_manager_sees_the_reps_of_their_team_for_a_month(
    manager_client, manager, rep, teammate, outsider
):
    sales_target_set(
        actor=manager,
        user=rep,
        month=MARCH,
        metric="won_value",
        amount="8000",
    )
    response = manager_client.get("/analytics/targets/", {"month": "2026-03"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Targets for March 2026" in body
    assert "Rita Rep" in body and "Tom Teammate" in body
    assert "Otto Outsider" not in body
    rows = [f'name="{p.pk}-won_value"' in body for p in (rep, teammate, manager, outsider)]
    assert rows == [True, True, False, False]
    assert f'name="{rep.pk}-won_value"' in body and 'value="8000.00"' in body


def test_a_manager_saves_targets(manager_client, rep, teammate, outsider):
    response = manager_client.post(
        "/analytics/targets/",
        {
            "month": "2026-03",
            f"{rep.pk}-won_value": "15000",
            f"{rep.pk}-won_deals": "3",
            f"{teammate.pk}-new_deals": "4",
            f"{outsider.pk}-won_value": "999",  # not on the page: ignored
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/analytics/targets/?month=2026-03"
    assert [(email, month, metric, amount) for email, month, metric, amount, _ in stored()] == [
        ("rep@example.com", "2026-03-01", "won_deals", Decimal("3.00")),
        ("rep@example.com", "2026-03-01", "won_value", Decimal("15000.00")),
        ("teammate@example.com", "2026-03-01", "new_deals", Decimal("4.00")),
    ]
    page = manager_client.get(response["Location"]).content.decode()
    assert "Targets of March 2026 saved (3 changed)." in page
    assert 'value="3"' in page  # a number of deals shows whole


def test_a_bad_amount_shows_on_its_box_and_saves_nothing(manager_client, rep):
    response = manager_client.post(
        "/analytics/targets/",
        {"month": "2026-03", f"{rep.pk}-won_value": "1000", f"{rep.pk}-won_deals": "<b>x</b>"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Rita Rep, deals won: “&lt;b&gt;x&lt;/b&gt;” is not an amount." in body
    assert "<b>x</b>" not in body
    assert SalesTarget.objects.count() == 0


def test_a_rep_is_refused(rep_client, rep):
    assert rep_client.get("/analytics/targets/").status_code == 403
    data = {"month": "2026-03", f"{rep.pk}-won_value": 1}
    response = rep_client.post("/analytics/targets/", data)
    assert response.status_code == 403
    assert SalesTarget.objects.count() == 0


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/analytics/targets/")
    assert response.status_code == 302 and "/login" in response["Location"]


def test_saving_needs_the_csrf_token(manager, rep, client_for):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    response = client.post("/analytics/targets/", {"month": "2026-03", f"{rep.pk}-won_value": 1})
    assert response.status_code == 403
    assert SalesTarget.objects.count() == 0
    page = client.get("/analytics/targets/").content.decode()
    assert 'name="csrfmiddlewaretoken"' in page


def test_an_admin_sees_everyone(admin_client_, admin, manager, rep, teammate, outsider):
    body = admin_client_.get("/analytics/targets/", {"month": "2026-03"}).content.decode()
    for name in ("Ada Admin", "Mia Manager", "Rita Rep", "Tom Teammate", "Otto Outsider"):
        assert name in body
