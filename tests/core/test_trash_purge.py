"""The trash purge: what has been in the trash past TRASH_DAYS is deleted for good, safely."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.utils import timezone

from closeloop.accounts.models import User
from closeloop.aftersales.coupons import coupon_issue, coupon_redeem
from closeloop.core.models import AuditEntry
from closeloop.core.purge import trash_purge
from closeloop.core.schedule import PERIODIC_JOBS
from closeloop.leads.models import Lead
from closeloop.leads.services import lead_create, lead_restore, lead_trash
from closeloop.leads.services.inputs import LeadInput
from closeloop.people.models import Contact, Organization
from closeloop.people.services import contact_trash, organization_trash
from closeloop.pipeline.models import Deal, DealFacts, StageChange
from closeloop.pipeline.rollups.models import CELL_MODELS
from closeloop.pipeline.services import deal_mark_won, deal_trash
from tests.factories import ContactFactory, DealFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def _cells() -> dict[str, list[Any]]:
    return {
        m.__name__: sorted(map(str, m.objects.values_list()))
        for m in CELL_MODELS  # type: ignore[attr-defined]
    }


def test_the_purge_is_a_daily_periodic_job() -> None:
    assert "trash_purge" in PERIODIC_JOBS
    assert PERIODIC_JOBS["trash_purge"].interval().days == 1


def test_a_lead_stays_restorable_for_30_days_then_is_purged(rep: User) -> None:
    with time_machine.travel("2030-03-01 10:00Z"):
        lead = lead_create(actor=rep, data=LeadInput(first_name="Ada", email="a@x.example")).lead
        lead_trash(actor=rep, lead=lead)
    with time_machine.travel("2030-03-30 10:00Z"):  # 29 days later
        assert trash_purge().total == 0
        lead_restore(actor=rep, lead=lead)
        lead_trash(actor=rep, lead=lead)
    with time_machine.travel("2030-04-29 09:59Z"):  # not quite 30 days after the second trash
        assert trash_purge().total == 0
    with time_machine.travel("2030-04-29 10:01Z"):
        result = trash_purge()
    assert result.purged == {"lead": 1}
    assert not Lead.with_trashed.filter(pk=lead.pk).exists()
    purge = AuditEntry.objects.get(object_id=lead.pk, action="purge")
    assert purge.actor is None and purge.object_label == str(lead)


def test_trash_days_is_a_setting(rep: User, settings: Any) -> None:
    settings.TRASH_DAYS = 7
    org = OrganizationFactory(owner=rep)
    with time_machine.travel(timezone.now() - timezone.timedelta(days=8)):
        organization_trash(actor=rep, organization=org)
    assert trash_purge().purged == {"organization": 1}


def test_alive_records_are_never_purged(rep: User) -> None:
    with time_machine.travel("2020-01-01 00:00Z"):
        deal = DealFactory(owner=rep)
        org = OrganizationFactory(owner=rep)
    assert trash_purge().total == 0
    assert Deal.objects.filter(pk=deal.pk).exists()
    assert Organization.objects.filter(pk=org.pk).exists()


def test_purging_a_won_deal_leaves_every_report_figure_as_it_was(rep: User) -> None:
    keep = DealFactory(owner=rep, title="Kept")
    deal_mark_won(actor=rep, deal=keep)
    gone = DealFactory(owner=rep, title="Gone")
    deal_mark_won(actor=rep, deal=gone)
    with time_machine.travel(timezone.now() - timezone.timedelta(days=31)):
        deal_trash(actor=rep, deal=gone)
    before = _cells()

    assert trash_purge().purged == {"deal": 1}

    assert _cells() == before
    assert not StageChange.objects.filter(deal_id=gone.pk).exists()
    assert not DealFacts.objects.filter(deal_id=gone.pk).exists()
    assert DealFacts.objects.filter(deal_id=keep.pk).exists()


def test_an_organization_a_deal_still_names_is_kept_until_the_deal_goes(rep: User) -> None:
    org = OrganizationFactory(owner=rep, name="Bakery Lind")
    contact = ContactFactory(owner=rep, organization=org)
    deal = DealFactory(owner=rep, organization=org, contact=contact)
    old = timezone.now() - timezone.timedelta(days=40)
    with time_machine.travel(old):
        organization_trash(actor=rep, organization=org)
        contact_trash(actor=rep, contact=contact)

    first = trash_purge()
    assert first.total == 0
    assert any("a deal still names it" in reason for reason in first.kept)
    assert Deal.objects.get(pk=deal.pk).organization_id == org.pk

    with time_machine.travel(old):
        deal_trash(actor=rep, deal=deal)
    second = trash_purge()
    assert second.purged == {"deal": 1, "contact": 1, "organization": 1}
    assert not Contact.with_trashed.filter(pk=contact.pk).exists()


def test_a_contact_whose_coupon_was_redeemed_is_kept_and_the_rest_goes_on(rep: User) -> None:
    protected = ContactFactory(owner=rep)
    coupon = coupon_issue(actor=rep, kind="percent", value="10", contact=protected)
    coupon_redeem(actor=rep, code=coupon.code, order_value="100", contact=protected)
    plain = ContactFactory(owner=rep)
    with time_machine.travel(timezone.now() - timezone.timedelta(days=31)):
        contact_trash(actor=rep, contact=protected)
        contact_trash(actor=rep, contact=plain)

    result = trash_purge()

    assert result.purged == {"contact": 1}
    assert Contact.with_trashed.filter(pk=protected.pk).exists()
    assert not Contact.with_trashed.filter(pk=plain.pk).exists()
    assert any(f"contact #{protected.pk}" in reason for reason in result.kept)
    assert not AuditEntry.objects.filter(object_id=protected.pk, action="purge").exists()
