"""The audit log: each service's write leaves one entry, in the same transaction."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from closeloop.accounts.models import User
from closeloop.accounts.services import user_set_password, workspace_update
from closeloop.aftersales.coupons import coupon_issue, coupon_withdraw
from closeloop.core.audit import audit_changed, audit_snapshot
from closeloop.core.exceptions import DomainError
from closeloop.core.models import AuditEntry
from closeloop.leads.services import lead_create, lead_restore, lead_trash, lead_update
from closeloop.leads.services.bulk import lead_bulk_assign
from closeloop.leads.services.inputs import LeadInput
from closeloop.people.services import (
    contact_create,
    organization_create,
    organization_restore,
    organization_trash,
    organization_update,
)
from closeloop.pipeline.services import deal_create, deal_mark_lost, deal_update
from closeloop.proposals.services import proposal_create, proposal_update
from tests.factories import OrganizationFactory, UserFactory, lost_reason


def entries_of(obj: Any) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(object_id=obj.pk, content_type__model=obj._meta.model_name)
    )


@pytest.mark.django_db
def test_organization_create_change_trash_restore_are_logged_with_who_and_what(rep: User) -> None:
    org = organization_create(actor=rep, name="Bakery Lind", domain="bakery.example")
    organization_update(actor=rep, organization=org, name="Bakery Lind & Sons", industry="Food")
    organization_trash(actor=rep, organization=org)
    organization_restore(actor=rep, organization=org)

    restore, trash, change, create = entries_of(org)
    assert [e.action for e in (create, change, trash, restore)] == [
        "create",
        "update",
        "delete",
        "restore",
    ]
    assert create.actor == rep and create.actor_label == str(rep)
    assert create.changes["name"] == [None, "Bakery Lind"]
    assert create.changes["owner"] == [None, {"id": rep.pk, "label": str(rep)}]
    assert change.changes == {
        "name": ["Bakery Lind", "Bakery Lind & Sons"],
        "industry": ["", "Food"],
    }
    assert change.object_label == "Bakery Lind & Sons"


@pytest.mark.django_db
def test_an_update_that_changes_nothing_leaves_no_entry(rep: User) -> None:
    org = organization_create(actor=rep, name="Bakery Lind")
    organization_update(actor=rep, organization=org, name="Bakery Lind")
    assert [e.action for e in entries_of(org)] == ["create"]


@pytest.mark.django_db
def test_a_failed_write_leaves_no_entry(rep: User) -> None:
    org = organization_create(actor=rep, name="Bakery Lind")
    with pytest.raises(DomainError):
        organization_update(actor=rep, organization=org, name="")
    assert [e.action for e in entries_of(org)] == ["create"]


@pytest.mark.django_db
def test_an_entry_is_rolled_back_with_its_write(rep: User) -> None:
    org = organization_create(actor=rep, name="Bakery Lind")
    with pytest.raises(RuntimeError), transaction.atomic():
        organization_update(actor=rep, organization=org, name="Renamed")
        raise RuntimeError
    assert [e.action for e in entries_of(org)] == ["create"]


@pytest.mark.django_db
def test_deal_values_are_json_safe_and_foreign_keys_carry_their_label(rep: User) -> None:
    org = OrganizationFactory(name="Bakery Lind", owner=rep)
    deal = deal_create(actor=rep, title="Website", value=Decimal("1200"), organization=org)
    deal_update(
        actor=rep,
        deal=deal,
        changes={"value": Decimal("1500.50"), "expected_close_date": "2030-05-01"},
    )
    deal_mark_lost(actor=rep, deal=deal, reason=lost_reason("Price"), competitor="Acme")

    lost, change, create = entries_of(deal)
    assert create.changes["value"] == [None, "1200.00"]
    assert create.changes["organization"] == [None, {"id": org.pk, "label": "Bakery Lind"}]
    assert change.changes["value"] == ["1200.00", "1500.50"]
    assert change.changes["expected_close_date"] == [None, "2030-05-01"]
    assert lost.changes["status"] == ["open", "lost"]
    assert lost.changes["lost_reason"][1]["label"] == "Price"
    assert lost.changes["competitor"] == ["", "Acme"]
    assert "version" not in lost.changes and "updated_at" not in lost.changes


@pytest.mark.django_db
def test_lead_lifecycle_and_bulk_assign_are_logged(rep: User, teammate: User, admin: User) -> None:
    lead = lead_create(
        actor=rep, data=LeadInput(first_name="Ada", last_name="Byron", email="ada@x.example")
    ).lead
    lead_update(
        actor=rep,
        lead=lead,
        data=dataclasses.replace(
            LeadInput(first_name="Ada", last_name="Lovelace", email="ada@x.example"),
            owner=lead.owner,
        ),
    )
    lead_bulk_assign(actor=admin, lead_ids=[lead.pk], owner=teammate)
    lead_trash(actor=admin, lead=lead)
    lead_restore(actor=admin, lead=lead)

    restore, trash, assign, change, create = entries_of(lead)
    assert create.changes["email"] == [None, "ada@x.example"]
    assert change.changes["last_name"] == ["Byron", "Lovelace"]
    assert assign.changes["owner"][1] == {"id": teammate.pk, "label": str(teammate)}
    assert assign.actor == admin
    assert (trash.action, restore.action) == ("delete", "restore")


@pytest.mark.django_db
def test_contact_proposal_and_coupon_writes_are_logged(rep: User, bakery_deal: Any) -> None:
    contact = contact_create(actor=rep, first_name="Lena", last_name="Lind")
    assert entries_of(contact)[0].changes["first_name"] == [None, "Lena"]

    proposal = proposal_create(actor=rep, deal=bakery_deal, title="Offer")
    proposal_update(actor=rep, proposal=proposal, title="Better offer")
    change, create = entries_of(proposal)
    assert create.action == "create"
    assert change.changes["title"] == ["Offer", "Better offer"]

    coupon = coupon_issue(actor=rep, kind="percent", value="10", contact=contact)
    coupon_withdraw(actor=rep, coupon=coupon, reason="typo")
    withdraw, issue = entries_of(coupon)
    assert issue.changes["value"] == [None, "10"]
    assert withdraw.changes["is_active"] == [True, False]
    assert withdraw.changes["withdraw_reason"] == ["", "typo"]


@pytest.mark.django_db
def test_secrets_never_enter_the_log(admin: User) -> None:
    user = UserFactory()
    old_hash = User.objects.get(pk=user.pk).password
    user_set_password(actor=admin, user=user, password="a much longer secret 42")
    (entry,) = entries_of(user)
    assert entry.changes == {"password": ["(hidden)", "(hidden)"]}
    stored = str(AuditEntry.objects.values_list("changes", flat=True).get(pk=entry.pk))
    assert old_hash not in stored
    assert User.objects.get(pk=user.pk).password not in stored

    before = audit_snapshot(user)
    user.calendar_feed_key = 123456789
    user.save()
    entry2 = audit_changed(actor=admin, obj=user, before=before)
    assert entry2 is not None
    assert entry2.changes["calendar_feed_key"][1] == "(hidden)"


@pytest.mark.django_db
def test_workspace_settings_changes_are_logged(admin: User) -> None:
    workspace_update(actor=admin, name="Lind Group", base_currency="EUR", rep_visibility="own")
    entry = AuditEntry.objects.get(content_type__model="workspacesettings")
    assert entry.changes["name"][1] == "Lind Group"
    assert entry.actor == admin


def _query_count(client: Any, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_the_deal_page_shows_its_history_escaped_in_a_fixed_number_of_queries(
    rep: User, rep_client: Any
) -> None:
    deal = deal_create(actor=rep, title="Website")
    url = f"/deals/{deal.pk}/"
    deal_update(actor=rep, deal=deal, changes={"title": "Shop"})
    few = _query_count(rep_client, url)
    for n in range(8):
        deal_update(actor=rep, deal=deal, changes={"title": f"Shop {n}"})
    deal_update(actor=rep, deal=deal, changes={"title": "<script>alert(1)</script>"})
    assert _query_count(rep_client, url) == few

    html = rep_client.get(url).content.decode()
    history = html[html.index('id="history"') :]
    assert "Shop 7" in history and "&lt;script&gt;alert(1)&lt;/script&gt;" in history
    assert "<script>alert(1)" not in html
    assert "Title: <del>Website</del> → <ins>Shop</ins>" in history


@pytest.mark.django_db
def test_lead_contact_organization_and_proposal_pages_show_history(
    rep: User, rep_client: Any, bakery_deal: Any
) -> None:
    lead = lead_create(actor=rep, data=LeadInput(first_name="Ada", email="ada@x.example")).lead
    org = organization_create(actor=rep, name="Bakery Lind")
    organization_update(actor=rep, organization=org, industry="Food")
    contact = contact_create(actor=rep, first_name="Lena", organization=org)
    proposal = proposal_create(actor=rep, deal=bakery_deal, title="Offer")
    for url, expected in (
        (f"/leads/{lead.pk}/", "Created"),
        (f"/people/organizations/{org.pk}/", "Industry: <del>—</del> → <ins>Food</ins>"),
        (f"/people/contacts/{contact.pk}/", "Created"),
        (f"/proposals/{proposal.pk}/", "Created"),
    ):
        html = rep_client.get(url).content.decode()
        assert expected in html[html.index('id="history"') :], url


@pytest.mark.django_db
def test_the_audit_log_is_for_admins_only(
    rep_client: Any, manager_client: Any, admin_client_: Any
) -> None:
    assert rep_client.get("/settings/audit/").status_code == 403
    assert manager_client.get("/settings/audit/").status_code == 403
    assert admin_client_.get("/settings/audit/").status_code == 200
    assert 'href="/settings/audit/"' in admin_client_.get("/settings/workspace/").content.decode()


@pytest.mark.django_db
def test_the_audit_log_filters_by_type_user_dates_and_text(
    rep: User, teammate: User, admin: User, admin_client_: Any
) -> None:
    import time_machine

    with time_machine.travel("2030-01-10 12:00Z"):
        org = organization_create(actor=rep, name="Bakery Lind")
    with time_machine.travel("2030-02-10 12:00Z"):
        deal_create(actor=teammate, title="Web shop")
        organization_update(actor=admin, organization=org, industry="Food")

    def rows(query: str) -> list[str]:
        response = admin_client_.get("/settings/audit/" + query)
        assert response.status_code == 200
        return [
            f"{e.content_type.model}:{e.action}:{e.actor_label}"
            for e in response.context["page_obj"].object_list
        ]

    assert rows("?type=organization") == [
        f"organization:update:{admin}",
        f"organization:create:{rep}",
    ]
    assert rows(f"?user={rep.pk}") == [f"organization:create:{rep}"]
    assert rows("?since=2030-02-01&until=2030-02-28&type=deal") == [f"deal:create:{teammate}"]
    assert rows("?q=web+shop") == [f"deal:create:{teammate}"]
    assert rows("?until=2030-01-31") == [f"organization:create:{rep}"]
    bad = admin_client_.get("/settings/audit/?since=yesterday")
    assert "is not a date" in bad.content.decode()


@pytest.mark.django_db
def test_the_audit_log_is_paginated(rep: User, admin_client_: Any) -> None:
    org = organization_create(actor=rep, name="Bakery")
    for n in range(55):
        organization_update(actor=rep, organization=org, name=f"Bakery {n}")
    first = admin_client_.get("/settings/audit/")
    assert len(first.context["page_obj"].object_list) == 50
    second = admin_client_.get("/settings/audit/?page=2")
    assert len(second.context["page_obj"].object_list) == 6
