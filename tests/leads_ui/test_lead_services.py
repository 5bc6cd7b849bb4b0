"""lead_create's rules (company detection, attribution, consent, duplicates) and bulk services."""

from __future__ import annotations

import pytest

from closeloop.activities.models import Activity
from closeloop.core.exceptions import DomainError
from closeloop.leads import services
from closeloop.leads.models import DuplicatePair, Lead
from closeloop.leads.services import LeadInput
from tests.factories import OrganizationFactory

from .conftest import CampaignFactory, LeadFactory, source

pytestmark = pytest.mark.django_db


def create(actor, **fields) -> services.LeadResult:
    return services.lead_create(actor=actor, data=LeadInput(**fields))


def test_company_detected_by_email_domain_links_the_organization(rep):
    acme = OrganizationFactory(name="Acme", domain="acme.example")
    lead = create(rep, first_name="Ann", last_name="Lee", email="Ann@ACME.example").lead
    assert lead.email == "ann@acme.example"
    assert lead.company_domain == "acme.example"
    assert lead.organization == acme


def test_free_mail_domain_never_sets_company_domain(rep):
    OrganizationFactory(name="Google", domain="gmail.com")
    lead = create(rep, first_name="Ann", last_name="Lee", email="ann.lee@gmail.com").lead
    assert lead.company_domain == ""
    assert lead.organization is None


def test_campaign_picked_by_utm_campaign(rep):
    spring = CampaignFactory(name="Spring push", utm_campaign="spring-2025")
    lead = create(rep, last_name="Lee", utm_source="newsletter", utm_campaign="SPRING-2025").lead
    assert lead.campaign == spring
    assert lead.utm_source == "newsletter"


def test_chosen_campaign_wins_over_utm_campaign(rep):
    CampaignFactory(name="Spring push", utm_campaign="spring-2025")
    chosen = CampaignFactory(name="Fair")
    lead = create(rep, last_name="Lee", utm_campaign="spring-2025", campaign=chosen).lead
    assert lead.campaign == chosen


def test_consent_time_is_recorded_when_given(rep):
    given = create(rep, last_name="Yes", marketing_consent=True, consent_method="fair form").lead
    refused = create(rep, last_name="No").lead
    assert given.consent_at is not None
    assert given.consent_method == "fair form"
    assert refused.consent_at is None


def test_create_records_who_and_a_timeline_entry(rep):
    lead = create(rep, last_name="Lee", source=source("Referral")).lead
    assert lead.created_by == rep
    entry = Activity.objects.get(lead=lead)
    assert entry.subject == "Lead created"
    assert "Referral" in entry.body


def test_exact_duplicate_by_email_is_refused_case_insensitively(rep):
    first = LeadFactory(email="anna@acme.example", owner=rep)
    with pytest.raises(DomainError) as caught:
        create(rep, last_name="Other", email="  ANNA@Acme.Example ")
    assert caught.value.field == "email"
    assert f"lead #{first.pk}" in caught.value.message
    assert Lead.objects.count() == 1


def test_exact_duplicate_by_phone_in_other_formatting_is_refused(rep, settings):
    settings.PHONE_REGION = "DE"
    create(rep, last_name="First", phone="+49 30 1234567")
    with pytest.raises(DomainError) as caught:
        create(rep, last_name="Second", phone="030 / 123 45 67")
    assert caught.value.field == "phone"
    assert "+49301234567" in caught.value.message


def test_duplicate_of_a_lead_the_user_cannot_see_is_not_named(rep, outsider):
    LeadFactory(email="olga@garage.example", owner=outsider)
    with pytest.raises(DomainError) as caught:
        create(rep, last_name="X", email="olga@garage.example")
    assert "cannot see" in caught.value.message


def test_likely_duplicate_is_flagged_not_refused(rep):
    john = create(rep, first_name="John", last_name="Smith", company_name="ACME Ltd").lead
    result = create(rep, first_name="Jon", last_name="Smith", company_name="Acme")
    assert result.created
    assert [m.lead_id for m in result.flagged] == [john.pk]
    pair = DuplicatePair.objects.get(lead=result.lead)
    assert pair.other_lead == john
    assert "similar name" in pair.evidence


def test_different_people_are_not_flagged(rep):
    create(rep, first_name="John", last_name="Smith", company_name="ACME Ltd")
    result = create(rep, first_name="Mary", last_name="Smithers", company_name="Globex")
    assert result.flagged == []


# Bulk services --------------------------------------------------------------------------------


def test_bulk_assign_touches_only_visible_leads_and_records_it(rep, teammate, leads):
    ids = [lead.pk for lead in leads.values()]
    changed = services.lead_bulk_assign(actor=rep, lead_ids=ids, owner=teammate)
    assert changed == 2  # the rep's own and the unowned one
    owners = dict(Lead.objects.values_list("pk", "owner_id"))
    assert owners[leads["rep"].pk] == owners[leads["unowned"].pk] == teammate.pk
    assert owners[leads["outsider"].pk] == leads["outsider"].owner_id
    assert Activity.objects.filter(subject="Lead reassigned").count() == 2


def test_bulk_assign_refuses_a_deactivated_owner(rep, teammate, leads):
    teammate.is_active = False
    teammate.save()
    with pytest.raises(DomainError):
        services.lead_bulk_assign(actor=rep, lead_ids=[leads["rep"].pk], owner=teammate)


def test_bulk_set_status_touches_only_visible_leads(rep, leads):
    ids = [lead.pk for lead in leads.values()]
    assert services.lead_bulk_set_status(actor=rep, lead_ids=ids, status="contacted") == 2
    statuses = dict(Lead.objects.values_list("pk", "status"))
    assert statuses[leads["rep"].pk] == "contacted"
    assert statuses[leads["outsider"].pk] == "new"
    with pytest.raises(DomainError):
        services.lead_bulk_set_status(actor=rep, lead_ids=ids, status="won")


def test_bulk_trash_touches_only_visible_leads_and_can_be_restored(rep, leads):
    ids = [lead.pk for lead in leads.values()]
    assert services.lead_bulk_trash(actor=rep, lead_ids=ids) == 2
    assert set(Lead.objects.values_list("pk", flat=True)) == {
        leads["teammate"].pk,
        leads["outsider"].pk,
    }
    restored = services.lead_restore(actor=rep, lead=leads["rep"])
    assert restored.deleted_at is None


def test_lead_note_add_puts_a_note_on_the_timeline(rep, leads):
    note = services.lead_note_add(actor=rep, lead=leads["rep"], body="Called, send prices")
    assert note.lead == leads["rep"]
    assert note.kind == "note"
