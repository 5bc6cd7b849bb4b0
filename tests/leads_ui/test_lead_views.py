"""Lead pages through the HTTP client: create, edit, detail, notes, trash and restore."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from closeloop.activities.models import Activity
from closeloop.leads.forms import LeadForm
from closeloop.leads.models import DuplicatePair, ImportBatch, Lead
from tests.factories import OrganizationFactory

from .conftest import CampaignFactory, LeadFactory, source

pytestmark = pytest.mark.django_db

CREATE = reverse("leads:lead_create")


def lead_post(**fields: object) -> dict[str, object]:
    """A create/edit POST with every field the form renders, blank unless given."""
    data: dict[str, object] = {name: "" for name in LeadForm.base_fields}
    data.pop("marketing_consent")  # an unticked checkbox is not posted
    data["status"] = "new"
    data.update(fields)
    return data


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_create_lead_happy_path(rep_client, rep):
    campaign = CampaignFactory(name="Fair 2025")
    response = rep_client.post(CREATE, lead_post(
        first_name="Anna", last_name="Adler", email="Anna@Acme.example", phone="+49 30 1234567",
        company_name="Acme", owner=rep.pk, source=source("Event").pk, campaign=campaign.pk,
        utm_source="fair", marketing_consent="on", consent_method="Signed the fair form",
        notes="Wants a demo",
    ), follow=True)  # fmt: skip
    lead = Lead.objects.get()
    assert response.redirect_chain[-1][0] == reverse("leads:lead_detail", args=[lead.pk])
    assert (lead.email, lead.owner, lead.source.name, lead.campaign) == (
        "anna@acme.example", rep, "Event", campaign)  # fmt: skip
    assert lead.consent_at is not None and lead.created_by == rep
    assert "Lead “Anna Adler” created." in messages_of(response)


def test_create_form_offers_every_field_in_a_group(rep_client):
    response = rep_client.get(CREATE)
    form = response.context["form"]
    grouped = [name for _, names in form.groups for name in names]
    assert sorted([*grouped, "version"]) == sorted(form.fields)  # the version is hidden
    assert response.context["form"]["owner"].initial is not None


def test_create_refuses_a_duplicate_email_naming_it(rep_client, rep):
    first = LeadFactory(email="anna@acme.example", owner=rep)
    response = rep_client.post(CREATE, lead_post(last_name="Again", email="ANNA@acme.example"))
    assert response.status_code == 200
    errors = response.context["form"].errors["email"]
    assert errors == [f"A duplicate: lead #{first.pk} has the email anna@acme.example."]
    assert Lead.objects.count() == 1


def test_create_names_an_invalid_email(rep_client):
    response = rep_client.post(CREATE, lead_post(last_name="Bad", email="not-an-email"))
    assert response.context["form"].errors["email"] == [
        "“not-an-email” is not a valid email address."
    ]
    assert not Lead.objects.exists()


def test_create_needs_something_to_identify_the_lead(rep_client):
    response = rep_client.post(CREATE, lead_post())
    assert "at least a name" in response.context["form"].errors["last_name"][0]


def test_consent_needs_a_method(rep_client):
    response = rep_client.post(CREATE, lead_post(last_name="Lee", marketing_consent="on"))
    assert response.context["form"].errors["consent_method"] == ["Say how the lead gave consent."]


def test_script_in_name_is_stored_as_text_and_shown_escaped(rep_client):
    name = '<script>alert("x")</script>'
    response = rep_client.post(CREATE, lead_post(first_name=name, last_name="Hacker"), follow=True)
    lead = Lead.objects.get()
    assert lead.first_name == name
    html = response.content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    html = rep_client.get(reverse("leads:lead_list")).content.decode()
    assert "<script>alert" not in html


def test_notes_of_100_kb_are_accepted_and_longer_refused(rep_client):
    ok = rep_client.post(CREATE, lead_post(last_name="Long", notes="x" * 100_000))
    assert ok.status_code == 302
    assert len(Lead.objects.get().notes) == 100_000
    refused = rep_client.post(CREATE, lead_post(last_name="Longer", notes="x" * 100_001))
    assert refused.status_code == 200
    assert refused.context["form"].errors["notes"] == [
        "Notes can be at most 100,000 characters long."
    ]
    assert Lead.objects.count() == 1


def test_likely_duplicate_is_created_with_a_warning_and_shown_on_the_page(rep_client, rep):
    john = LeadFactory(first_name="John", last_name="Smith", company_name="ACME Ltd", owner=rep)
    response = rep_client.post(
        CREATE, lead_post(first_name="Jon", last_name="Smith", company_name="Acme"), follow=True
    )
    assert Lead.objects.count() == 2
    assert any("likely duplicate was flagged" in m for m in messages_of(response))
    html = response.content.decode()
    assert "Possible duplicate" in html
    assert reverse("leads:lead_detail", args=[john.pk]) in html
    assert "similar name and company" in html
    # the other lead's page shows the same pair
    html = rep_client.get(reverse("leads:lead_detail", args=[john.pk])).content.decode()
    assert "Possible duplicate" in html


def test_duplicate_notice_does_not_name_a_lead_the_user_cannot_see(rep_client, rep, outsider):
    mine = LeadFactory(owner=rep)
    hidden = LeadFactory(first_name="Olga", last_name="Secret", owner=outsider)
    DuplicatePair.objects.create(lead=mine, other_lead=hidden, score=95, evidence="similar name")
    html = rep_client.get(reverse("leads:lead_detail", args=[mine.pk])).content.decode()
    assert "a record you cannot see" in html
    assert "Secret" not in html


def test_lead_page_shows_attribution_and_timeline(rep_client, rep):
    org = OrganizationFactory(name="Acme Org", domain="acme.example", owner=rep)
    campaign = CampaignFactory(name="Spring push", utm_campaign="spring")
    batch = ImportBatch.objects.create(kind="leads", file_name="hubspot.csv", file="x.csv")
    lead = LeadFactory(
        owner=rep, email="ann@acme.example", organization=org, source=source("Paid ads"),
        campaign=campaign, utm_source="google", utm_medium="cpc", utm_campaign="spring",
        utm_term="crm software", utm_content="ad-b", marketing_consent=True,
        consent_at=timezone.now(), consent_method="Ticked the box", import_batch=batch,
    )  # fmt: skip
    Activity.objects.create(lead=lead, subject="Older", body="first", actor=rep)
    Activity.objects.create(lead=lead, subject="Newer", body="second", actor=rep)
    html = rep_client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    for text in ["Paid ads", "Spring push", "google", "cpc", "crm software", "ad-b",
                 "Ticked the box", "hubspot.csv", "Acme Org"]:  # fmt: skip
        assert text in html, text
    assert html.index("Newer") < html.index("Older")


def test_note_is_added_plain_and_with_htmx(rep_client, rep):
    lead = LeadFactory(owner=rep)
    url = reverse("leads:lead_note", args=[lead.pk])
    response = rep_client.post(url, {"body": "Called, no answer"})
    assert response.status_code == 302
    response = rep_client.post(url, {"body": "Second <b>call</b>"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="timeline">')
    assert "Second &lt;b&gt;call&lt;/b&gt;" in html and "Called, no answer" in html
    assert Activity.objects.filter(lead=lead, kind="note").count() == 2


def test_empty_note_is_refused(rep_client, rep):
    lead = LeadFactory(owner=rep)
    response = rep_client.post(
        reverse("leads:lead_note", args=[lead.pk]), {"body": " "}, HTTP_HX_REQUEST="true"
    )
    assert "A note cannot be empty." in response.content.decode()
    assert not Activity.objects.filter(lead=lead).exists()


def test_edit_lead_saves_and_records_the_change(rep_client, rep):
    lead = LeadFactory(owner=rep, email="old@acme.example")
    url = reverse("leads:lead_edit", args=[lead.pk])
    form = rep_client.get(url).context["form"]
    data = lead_post(**{k: v if v is not None else "" for k, v in form.initial.items()})
    data.update(owner=rep.pk, email="new@acme.example", status="contacted")
    data.pop("marketing_consent", None)
    response = rep_client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    lead.refresh_from_db()
    assert (lead.email, lead.status) == ("new@acme.example", "contacted")
    assert Activity.objects.filter(lead=lead, subject="Lead updated").exists()


def test_edit_refuses_the_email_of_another_lead(rep_client, rep):
    LeadFactory(owner=rep, email="taken@acme.example")
    lead = LeadFactory(owner=rep, last_name="Mine")
    response = rep_client.post(
        reverse("leads:lead_edit", args=[lead.pk]),
        lead_post(last_name="Mine", email="taken@acme.example", version=lead.version),
    )
    assert "has the email taken@acme.example" in response.context["form"].errors["email"][0]


def test_trash_and_restore(rep_client, rep):
    lead = LeadFactory(owner=rep, first_name="Gone", last_name="Soon")
    response = rep_client.post(reverse("leads:lead_trash", args=[lead.pk]))
    assert response.url == reverse("leads:lead_list")
    assert not Lead.objects.filter(pk=lead.pk).exists()
    trash = rep_client.get(reverse("trash")).content.decode()
    assert "Gone Soon" in trash and reverse("leads:lead_restore", args=[lead.pk]) in trash
    response = rep_client.post(reverse("leads:lead_restore", args=[lead.pk]))
    assert response.url == reverse("leads:lead_detail", args=[lead.pk])
    assert Lead.objects.filter(pk=lead.pk).exists()


def test_restoring_a_lead_not_in_the_trash_says_so(rep_client, rep):
    lead = LeadFactory(owner=rep)
    response = rep_client.post(reverse("leads:lead_restore", args=[lead.pk]), follow=True)
    assert "This lead is not in the trash." in messages_of(response)


def test_pages_need_csrf(rep, client_for):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    assert client.post(CREATE, lead_post(last_name="X")).status_code == 403


@pytest.mark.parametrize("rows", [5, 30])
def test_lead_page_query_count_is_fixed(rep_client, rep, django_assert_max_num_queries, rows):
    lead = LeadFactory(owner=rep, organization=OrganizationFactory(owner=rep), created_by=rep)
    for i in range(rows):
        Activity.objects.create(lead=lead, body=f"entry {i}", actor=rep)
        other = LeadFactory(owner=rep if i % 2 else None)
        DuplicatePair.objects.create(lead=lead, other_lead=other, score=90, evidence="similar")
    # session, user, workspace setting, lead, organization, created by, flags, their leads,
    # their contacts, timeline; scorecard criteria, answers, discard reasons; the history
    with django_assert_max_num_queries(14):
        response = rep_client.get(reverse("leads:lead_detail", args=[lead.pk]))
    assert response.content.decode().count("entry ") == rows


def _status_options(response) -> list[str]:
    return [value for value, _ in response.context["form"].fields["status"].choices]


def test_the_lead_form_offers_only_the_open_statuses(rep_client, rep):
    assert _status_options(rep_client.get(CREATE)) == ["new", "contacted", "qualifying"]
    lead = LeadFactory(owner=rep, last_name="Open", status="contacted")
    url = reverse("leads:lead_edit", args=[lead.pk])
    assert _status_options(rep_client.get(url)) == ["new", "contacted", "qualifying"]
    response = rep_client.post(url, lead_post(last_name="Open", status="qualified", owner=rep.pk))
    assert (
        "qualify, nurture or discard a lead with the buttons on its page"
        in (response.context["form"].errors["status"][0])
    )
    lead.refresh_from_db()
    assert lead.status == "contacted"


@pytest.mark.parametrize("outcome", ["qualified", "nurturing", "disqualified"])
def test_a_lead_with_an_outcome_is_edited_without_touching_its_status(rep_client, rep, outcome):
    lead = LeadFactory(owner=rep, last_name="Done", status=outcome)
    url = reverse("leads:lead_edit", args=[lead.pk])
    page = rep_client.get(url)
    field = page.context["form"]["status"]
    assert _status_options(page) == [outcome] and field.field.disabled
    assert 'name="status"' in page.content.decode() and "disabled" in str(field)
    # whatever is posted for the status, the edit saves and the outcome stays
    response = rep_client.post(url, lead_post(last_name="Done", job_title="CTO", status="new",
                                              owner=rep.pk, version=lead.version))  # fmt: skip
    assert response.status_code == 302, response.context["form"].errors
    lead.refresh_from_db()
    assert (lead.job_title, lead.status) == ("CTO", outcome)
