"""import_run modes and matching, reconciliation, dry runs, undo, organizations and contacts."""

from __future__ import annotations

import pytest

from closeloop.core.exceptions import DomainError
from closeloop.leads.choices import ImportState, RowOutcome
from closeloop.leads.imports.services import import_undo
from closeloop.leads.models import DuplicatePair, ImportRow, Lead, Source
from closeloop.people.models import Contact, ContactEmail, Organization
from tests.factories import ContactEmailFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

CSV = "First Name,Last Name,Email,Phone,Company,Lead Source,Record ID\n"


def lead(**fields) -> Lead:
    fields.setdefault("first_name", "Old")
    return Lead.objects.create(**fields)


def test_create_skips_existing_leads_and_contacts_by_email_and_phone(run_import):
    lead(email="anna@x.example")
    lead(phone="+49 30 1111111", phone_e164="+49301111111")
    ContactEmailFactory(email="carl@x.example")
    batch = run_import(
        CSV
        + "Anna,Berg,ANNA@x.example,,,,\n"
        + "Ben,Costa,ben@x.example,030 1111111,,,\n"
        + "Carl,Dorn,carl@x.example,,,,\n"
        + "Dana,Eck,dana@x.example,,,,\n"
    )
    assert (batch.created_count, batch.skipped_count, batch.rows_read) == (1, 3, 4)
    reasons = dict(ImportRow.objects.filter(batch=batch).values_list("row_number", "error"))
    assert "same email" in reasons[2] and "same phone (+49301111111)" in reasons[3]
    assert reasons[4].startswith("Duplicate: contact #")
    assert batch.reconciles and batch.state == ImportState.DONE


def test_records_name_their_batch_and_unknown_sources_are_added(run_import, admin):
    batch = run_import(CSV + "Anna,Berg,anna@acme.example,+49 30 2222222,Acme,Trade fair 2024,\n")
    new = Lead.objects.get()
    assert new.import_batch == batch and new.created_by == admin
    assert new.source == Source.objects.get(name="Trade fair 2024")
    assert new.phone_e164 == "+49302222222" and new.company_domain == "acme.example"


def test_lead_links_to_the_organization_of_its_email_domain(run_import):
    org = OrganizationFactory(domain="acme.example")
    run_import(CSV + "Anna,Berg,anna@acme.example,,,,\nBen,C,ben@gmail.com,,,,\n")
    assert Lead.objects.get(email="anna@acme.example").organization == org
    assert Lead.objects.get(email="ben@gmail.com").company_domain == ""


@pytest.mark.parametrize(
    ("match", "row"),
    [
        ("email", "Anna,Changed,anna@x.example,,NewCo,,\n"),
        ("phone", "Anna,Changed,,+49 30 3333333,NewCo,,\n"),
        ("external_id", "Anna,Changed,,,NewCo,,HS-1\n"),
    ],
)
def test_update_matches_on_each_key(run_import, match, row):
    old = lead(last_name="Berg", email="anna@x.example", phone="+49 30 3333333",
               phone_e164="+49303333333", external_id="HS-1", company_name="OldCo")  # fmt: skip
    batch = run_import(CSV + row, mode="update", match_on=match)
    old.refresh_from_db()
    assert (batch.updated_count, old.last_name, old.company_name) == (1, "Changed", "NewCo")
    assert ImportRow.objects.get(batch=batch).previous["last_name"] == "Berg"


def test_update_by_our_id_and_unmatched_rows_are_skipped(run_import):
    old = lead(email="anna@x.example")
    batch = run_import(
        f"id,first_name,email\n{old.pk},Anna,anna@x.example\n99999,Nobody,n@x.example\n",
        mode="update",
        match_on="id",
    )
    old.refresh_from_db()
    assert old.first_name == "Anna"
    assert (batch.updated_count, batch.skipped_count, batch.created_count) == (1, 1, 0)
    assert "no existing lead with id 99999" in ImportRow.objects.get(outcome="skipped").error


def test_upsert_updates_matches_and_creates_the_rest(run_import):
    lead(email="anna@x.example", company_name="Old")
    batch = run_import(CSV + "Anna,B,anna@x.example,,New,,\nBen,C,ben@x.example,,,,\n",
                       mode="upsert")  # fmt: skip
    assert (batch.updated_count, batch.created_count) == (1, 1)
    assert Lead.objects.get(email="anna@x.example").company_name == "New"


def test_update_needs_the_match_column(run_import):
    with pytest.raises(DomainError, match="map a column to “Phone”"):
        run_import("First Name,Email\nAnna,a@x.example\n", mode="update", match_on="phone")


def test_dry_run_writes_nothing_but_counts(run_import):
    lead(email="old@x.example")
    batch = run_import(CSV + "A,B,new@x.example,,,,\nC,D,old@x.example,,,,\nE,F,bad,,,,\n",
                       dry_run=True)  # fmt: skip
    assert (batch.created_count, batch.skipped_count, batch.failed_count) == (1, 1, 1)
    assert Lead.objects.count() == 1 and not ImportRow.objects.exists()
    assert batch.options["dry_run_failures"][0]["row"] == 4


def test_undo_trashes_what_was_created_and_restores_what_was_updated(run_import, admin):
    old = lead(email="anna@x.example", company_name="Before")
    batch = run_import(CSV + "Anna,B,anna@x.example,,After,,\nBen,C,ben@x.example,,,,\n",
                       mode="upsert")  # fmt: skip
    import_undo(actor=admin, batch=batch)
    old.refresh_from_db()
    assert old.company_name == "Before" and old.deleted_at is None
    assert Lead.with_trashed.get(email="ben@x.example").deleted_at is not None
    batch.refresh_from_db()
    assert batch.state == ImportState.UNDONE
    with pytest.raises(DomainError):
        import_undo(actor=admin, batch=batch)


def test_likely_duplicates_are_flagged_not_merged(run_import):
    lead(
        first_name="Annabel", last_name="Bergmann", company_name="Acme GmbH", email="a@acme.example"
    )
    run_import(CSV + "Annabell,Bergmann,other@mail.example,,Acme GmbH,,\n")
    assert Lead.objects.count() == 2
    assert DuplicatePair.objects.count() == 1


def test_two_look_alike_rows_of_one_file_make_one_pair(run_import):
    # each new lead is compared with every other lead, so B found A after A had found B
    run_import(
        CSV
        + "Annabel,Bergmann,a@acme.example,,Acme GmbH,,\n"
        + "Annabell,Bergmann,other@mail.example,,Acme GmbH,,\n"
    )
    assert Lead.objects.count() == 2
    [pair] = DuplicatePair.objects.all()
    assert {pair.lead_id, pair.other_lead_id} == set(Lead.objects.values_list("pk", flat=True))


def test_reps_cannot_import(run_import, rep):
    with pytest.raises(DomainError, match="Only admins and managers"):
        run_import(CSV + "A,B,a@x.example,,,,\n", actor=rep)


def test_organizations_import_and_duplicates(run_import):
    OrganizationFactory(name="Acme GmbH", domain="acme.example")
    batch = run_import(
        "Company name,Company Domain Name,Industry,Phone Number\n"
        "acme gmbh,,Retail,\nNew Bakery,https://www.bakery.example/home,Food,+49 30 1\n"
        "New Bakery,,Food,\nNo Domain Ltd,,,\n",
        kind="organizations",
    )
    assert (batch.created_count, batch.skipped_count) == (2, 2)
    bakery = Organization.objects.get(name="New Bakery")
    assert bakery.domain == "bakery.example" and bakery.import_batch == batch


def test_contacts_import_with_emails_phones_and_organization(run_import):
    batch = run_import(
        "Person - Name,Person - Email,Person - Phone,Organization - Name\n"
        "Anna Berg,anna@acme.example; a.berg@acme.example,+49 30 1234567,Acme\n"
        "Anna B.,ANNA@acme.example,,Acme\nBen Costa,not-an-email,,\n",
        kind="contacts",
    )
    assert (batch.created_count, batch.skipped_count, batch.failed_count) == (1, 1, 1)
    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name, contact.organization.name) == (
        "Anna",
        "Berg",
        "Acme",
    )
    assert set(ContactEmail.objects.values_list("email", flat=True)) == {
        "anna@acme.example",
        "a.berg@acme.example",
    }
    assert contact.phones.get().e164 == "+49301234567"
    assert ImportRow.objects.get(outcome=RowOutcome.FAILED).error.startswith("Email:")


def test_duplicates_across_chunks_are_caught(run_import, monkeypatch):
    from closeloop.leads.imports import readers

    monkeypatch.setattr(readers, "CHUNK", 2)
    rows = "".join(f"P{i},Q,p{i}@x.example,+49 30 55500{i:02d},,,\n" for i in range(5))
    rows += "Again,Q,P1@x.example,,,,\nPhone,Q,new@x.example,+49 30 5550003,,,\n"
    batch = run_import(CSV + rows)
    assert (batch.created_count, batch.skipped_count) == (5, 2)
    errors = sorted(ImportRow.objects.values_list("error", flat=True))
    assert all(e.startswith("Duplicate: lead #") for e in errors), errors
    dry = run_import(CSV + rows, dry_run=True)
    assert dry.skipped_count == 7  # the first run's leads exist now


def test_text_with_tabs_newlines_and_backslashes_is_stored_exactly(run_import):
    notes = "line one\nline\ttwo \\ three\r\nend"
    run_import('First Name,Notes\nAnna,"' + notes + '"\n')
    assert Lead.objects.get().notes == notes.strip()


def test_contacts_and_organizations_take_the_owner_column(run_import, admin, rep):
    orgs = run_import(f"Company name,Owner\nAcme,{rep.email}\nGlobex,\n", kind="organizations")
    contacts = run_import(
        f"Person - Name,Person - Email,Owner\nAnna Berg,anna@x.example,{rep.email}\n"
        "Ben Costa,ben@x.example,\n",
        kind="contacts",
    )
    assert (orgs.created_count, contacts.created_count) == (2, 2)
    owners = dict(Organization.objects.values_list("name", "owner"))
    assert owners == {"Acme": rep.pk, "Globex": admin.pk}
    owners = dict(Contact.objects.values_list("first_name", "owner"))
    assert owners == {"Anna": rep.pk, "Ben": admin.pk}
