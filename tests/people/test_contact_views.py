"""Contact pages through the HTTP client: list, export, email/phone rows, detail, notes, trash."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from closeloop.activities.models import Activity
from closeloop.people.models import Contact
from tests.factories import ContactEmailFactory, ContactFactory, DealFactory, OrganizationFactory

from .conftest import ContactPhoneFactory

pytestmark = pytest.mark.django_db

LIST = reverse("people:contact_list")
CREATE = reverse("people:contact_create")


def names_in(response) -> list[str]:
    return [c.full_name for c in response.context["page_obj"]]


def contact_post(**fields: str) -> dict[str, str]:
    """A create/edit POST with the three blank email and phone rows the form renders."""
    data = {"first_name": "", "last_name": "", "job_title": "", "organization": "",
            "owner": "", "notes": ""}  # fmt: skip
    for i in range(3):
        data.update({f"email_{i}": "", f"email_label_{i}": "", f"phone_{i}": "",
                     f"phone_label_{i}": ""})  # fmt: skip
    data.update(fields)
    return data


@pytest.fixture
def people(rep):
    acme = OrganizationFactory(name="Acme", owner=rep)
    anna = ContactFactory(first_name="Anna", last_name="Adler", organization=acme, owner=rep,
                          job_title="CEO")  # fmt: skip
    ContactEmailFactory(contact=anna, email="anna@acme.example")
    ContactPhoneFactory(contact=anna, raw="+49 30 1234567", e164="+49301234567")
    bob = ContactFactory(first_name="Bob", last_name="Baker", organization=None, owner=rep)
    ContactEmailFactory(contact=bob, email="bob@bakery.example")
    return {"acme": acme, "anna": anna, "bob": bob}


@pytest.mark.parametrize(
    ("q", "expected"),
    [("adler", ["Anna Adler"]), ("BOB@bakery", ["Bob Baker"]), ("30 1234", ["Anna Adler"]),
     ("+4930123", ["Anna Adler"]), ("030 1234567", ["Anna Adler"]), ("nobody", [])],
)  # fmt: skip
def test_list_searches_name_email_and_phone(rep_client, people, settings, q, expected):
    settings.PHONE_REGION = "DE"
    assert names_in(rep_client.get(LIST, {"q": q})) == expected


def test_list_filters_by_organization_and_sorts(rep_client, people):
    response = rep_client.get(LIST, {"organization": people["acme"].pk})
    assert names_in(response) == ["Anna Adler"]
    assert names_in(rep_client.get(LIST, {"sort": "-name"})) == ["Bob Baker", "Anna Adler"]
    assert names_in(rep_client.get(LIST, {"sort": "title"}))[-1] == "Anna Adler"


def test_list_shows_primary_email_phone_and_organization(rep_client, people):
    body = rep_client.get(LIST).content.decode()
    assert "anna@acme.example" in body and "+49301234567" in body
    assert reverse("people:organization_detail", args=[people["acme"].pk]) in body


def test_empty_states(rep_client, rep):
    assert "No contacts yet" in rep_client.get(LIST).content.decode()
    ContactFactory(owner=rep)
    assert "No contacts match these filters" in rep_client.get(LIST, {"q": "zzz"}).content.decode()


def test_csv_export_lists_emails_and_phones_and_neutralises(rep_client, rep, people):
    evil = ContactFactory(first_name='=HYPERLINK("http://x")', last_name="Z", owner=rep)
    response = rep_client.get(LIST, {"format": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(text.lstrip("\ufeff")))}
    assert set(rows) == {str(people["anna"].pk), str(people["bob"].pk), str(evil.pk)}
    anna = rows[str(people["anna"].pk)]
    assert (anna["emails"], anna["organization"]) == ("anna@acme.example", "Acme")
    assert anna["phones"] == "'+49301234567"  # a leading + would start a formula
    assert rows[str(evil.pk)]["first_name"] == '\'=HYPERLINK("http://x")'


def test_create_form_offers_three_email_and_phone_rows(rep_client):
    body = rep_client.get(CREATE).content.decode()
    for i in range(3):
        assert f'name="email_{i}"' in body and f'name="phone_{i}"' in body
    assert 'name="email_3"' not in body


def test_create_with_several_emails_and_phones(rep_client, rep, settings):
    settings.PHONE_REGION = "DE"
    response = rep_client.post(CREATE, contact_post(
        first_name="Clara", last_name="Cole", owner=str(rep.pk),
        email_0="Clara@Cole.example", email_label_0="work",
        email_1="clara@home.example", email_label_1="home",
        email_2="clara@cole.example",
        phone_0="030 1234567", phone_label_0="work", phone_1="call the front desk",
    ))  # fmt: skip
    contact = Contact.objects.get()
    assert response["Location"] == reverse("people:contact_detail", args=[contact.pk])
    assert [(e.email, e.label) for e in contact.emails.order_by("pk")] == [
        ("clara@cole.example", "work"),
        ("clara@home.example", "home"),
    ]
    assert [(p.raw, p.e164) for p in contact.phones.order_by("pk")] == [
        ("030 1234567", "+49301234567"),
        ("call the front desk", ""),
    ]


def test_invalid_email_is_shown_naming_the_value(rep_client):
    response = rep_client.post(CREATE, contact_post(first_name="Dan", email_1="dan(at)x"))
    assert response.status_code == 200
    assert "“dan(at)x” is not a valid email address." in response.content.decode()
    assert 'value="Dan"' in response.content.decode()
    assert not Contact.objects.exists()


def test_contact_without_name_or_email_gets_an_error_on_the_name(rep_client):
    response = rep_client.post(CREATE, contact_post(phone_0="+49 30 1234567"))
    assert response.context["form"].errors["first_name"] == [
        "A contact needs a name or an email address."
    ]
    assert not Contact.objects.exists()


def test_organization_choices_only_offer_visible_ones(rep_client, rep_org, outsider_org):
    form = rep_client.get(CREATE).context["form"]
    assert list(form.fields["organization"].queryset) == [rep_org]
    response = rep_client.post(CREATE, contact_post(first_name="Eve",
                                                    organization=str(outsider_org.pk)))  # fmt: skip
    assert "organization" in response.context["form"].errors
    assert not Contact.objects.exists()


def test_create_prefills_organization_from_the_query(rep_client, rep_org):
    form = rep_client.get(CREATE, {"organization": rep_org.pk}).context["form"]
    assert form["organization"].value() == rep_org.pk


def test_edit_shows_existing_rows_plus_blank_ones_and_replaces_them(rep_client, rep, people):
    anna = people["anna"]
    url = reverse("people:contact_edit", args=[anna.pk])
    body = rep_client.get(url).content.decode()
    assert 'value="anna@acme.example"' in body and 'value="+49 30 1234567"' in body
    assert 'name="email_3"' in body and 'name="email_4"' not in body
    response = rep_client.post(url, contact_post(
        first_name="Anna", last_name="Adler-Berg", owner=str(rep.pk),
        organization=str(people["acme"].pk), email_0="anna@acme.example",
        email_1="anna@new.example", email_label_1="home", version=str(anna.version),
    ))  # fmt: skip
    assert response.status_code == 302
    anna.refresh_from_db()
    assert anna.last_name == "Adler-Berg"
    assert [e.email for e in anna.emails.order_by("pk")] == [
        "anna@acme.example",
        "anna@new.example",
    ]
    assert not anna.phones.exists()


def test_edit_keeps_a_linked_organization_the_editor_cannot_see(rep_client, rep, outsider_org):
    contact = ContactFactory(first_name="Fay", organization=outsider_org, owner=rep)
    url = reverse("people:contact_edit", args=[contact.pk])
    form = rep_client.get(url).context["form"]
    assert form["organization"].value() == outsider_org.pk
    rep_client.post(url, contact_post(first_name="Fay", job_title="CTO", owner=str(rep.pk),
                                      organization=str(outsider_org.pk),
                                      version=str(contact.version)))  # fmt: skip
    contact.refresh_from_db()
    assert (contact.job_title, contact.organization) == ("CTO", outsider_org)


def test_detail_shows_emails_phones_deals_and_timeline(rep_client, rep, people):
    anna = people["anna"]
    ContactPhoneFactory(contact=anna, raw="ext. 42 via reception", e164="", is_primary=False)
    deal = DealFactory(title="Website relaunch", contact=anna, organization=people["acme"],
                       owner=rep, status="lost")  # fmt: skip
    Activity.objects.create(contact=anna, body="Prefers email over calls", actor=rep)
    body = rep_client.get(reverse("people:contact_detail", args=[anna.pk])).content.decode()
    assert 'href="mailto:anna@acme.example"' in body
    assert 'href="tel:+49301234567"' in body and "(+49 30 1234567)" in body
    assert "ext. 42 via reception" in body and "not recognised" in body
    assert f'href="/deals/{deal.pk}/"' in body and "Lost" in body
    assert "Prefers email over calls" in body
    assert "CEO" in body and "Acme" in body


def test_note_on_contact_also_shows_on_its_organization(rep_client, people):
    anna = people["anna"]
    rep_client.post(reverse("people:contact_note", args=[anna.pk]), {"body": "Asked for a demo"})
    org_page = reverse("people:organization_detail", args=[people["acme"].pk])
    assert "Asked for a demo" in rep_client.get(org_page).content.decode()


def test_empty_note_shows_an_error(rep_client, people):
    url = reverse("people:contact_note", args=[people["anna"].pk])
    response = rep_client.post(url, {"body": ""}, follow=True)
    assert "A note cannot be empty." in response.content.decode()
    assert not Activity.objects.exists()


def test_name_with_script_is_escaped(rep_client, rep):
    contact = ContactFactory(first_name="<script>alert('x')</script>", last_name="", owner=rep)
    Activity.objects.create(contact=contact, body="<b>bold?</b>", actor=rep)
    for url in (LIST, reverse("people:contact_detail", args=[contact.pk]),
                reverse("people:contact_edit", args=[contact.pk])):  # fmt: skip
        body = rep_client.get(url).content.decode()
        assert "<script>alert(" not in body
        assert "&lt;script&gt;" in body
    detail = rep_client.get(reverse("people:contact_detail", args=[contact.pk])).content.decode()
    assert "&lt;b&gt;bold?&lt;/b&gt;" in detail


def test_trash_and_restore(rep_client, people):
    anna = people["anna"]
    assert rep_client.post(reverse("people:contact_trash", args=[anna.pk]))["Location"] == LIST
    assert names_in(rep_client.get(LIST)) == ["Bob Baker"]
    response = rep_client.post(reverse("people:contact_restore", args=[anna.pk]))
    assert response["Location"] == reverse("people:contact_detail", args=[anna.pk])
    assert names_in(rep_client.get(LIST)) == ["Anna Adler", "Bob Baker"]


def test_contact_of_a_trashed_organization_keeps_the_link_when_edited(rep_client, rep, rep_org):
    contact = ContactFactory(first_name="Gus", organization=rep_org, owner=rep)
    rep_client.post(reverse("people:organization_trash", args=[rep_org.pk]))
    detail = rep_client.get(reverse("people:contact_detail", args=[contact.pk])).content.decode()
    assert "in the trash" in detail
    assert reverse("people:organization_detail", args=[rep_org.pk]) not in detail
    url = reverse("people:contact_edit", args=[contact.pk])
    assert "Rita&#x27;s Bakery (in the trash)" in rep_client.get(url).content.decode()
    contact.refresh_from_db()
    response = rep_client.post(url, contact_post(first_name="Gus", owner=str(rep.pk),
                                                 organization=str(rep_org.pk),
                                                 version=str(contact.version)))  # fmt: skip
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.organization_id == rep_org.pk


def test_edit_that_posts_no_phone_rows_leaves_phones_alone(rep_client, rep, people):
    anna = people["anna"]
    data = {k: v for k, v in contact_post(first_name="Anna", owner=str(rep.pk),
                                          email_0="anna@acme.example",
                                          version=str(anna.version)).items()
            if not k.startswith("phone")}  # fmt: skip
    response = rep_client.post(reverse("people:contact_edit", args=[anna.pk]), data)
    assert response.status_code == 302
    assert [p.e164 for p in anna.phones.all()] == ["+49301234567"]
