"""The leads inbox: search, filters, sorting, bulk actions, CSV/XLSX export and query counts."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from closeloop.leads.models import Lead

from .conftest import CampaignFactory, LeadFactory, source

pytestmark = pytest.mark.django_db

LIST = reverse("leads:lead_list")
BULK = reverse("leads:lead_bulk")
# session, user, workspace setting, unread notifications, count, page, sources, campaigns,
# owners; the scorecard's missing items: criteria, answers
LIST_QUERIES = 11


def names(response) -> list[str]:
    return [lead.full_name for lead in response.context["page_obj"]]


@pytest.fixture
def inbox(rep, teammate):
    fair = CampaignFactory(name="Fair")
    old = timezone.now() - dt.timedelta(days=40)
    return {
        "anna": LeadFactory(first_name="Anna", last_name="Adler", company_name="Acme",
                            email="anna@acme.example", owner=rep, source=source("Event"),
                            campaign=fair, status="contacted"),
        "bob": LeadFactory(first_name="Bob", last_name="Baker", company_name="Bakery",
                           email="bob@bakery.example", owner=None, source=source("Referral"),
                           created_at=old),
        "cleo": LeadFactory(first_name="Cleo", last_name="Cole", company_name="Zeta",
                            email="cleo@zeta.example", owner=rep, status="qualifying"),
        "fair": fair,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("q", "expected"),
    [("adler", ["Anna Adler"]), ("BOB@bakery", ["Bob Baker"]), ("zeta", ["Cleo Cole"]),
     ("nobody", [])],
)  # fmt: skip
def test_search_name_email_company(rep_client, inbox, q, expected):
    assert names(rep_client.get(LIST, {"q": q})) == expected


def test_filters(rep_client, rep, inbox):
    def pick(**params: object) -> list[str]:
        return sorted(names(rep_client.get(LIST, params)))

    assert pick(status="contacted") == ["Anna Adler"]
    assert pick(source=source("Referral").pk) == ["Bob Baker"]
    assert pick(campaign=inbox["fair"].pk) == ["Anna Adler"]
    assert pick(owner=rep.pk) == ["Anna Adler", "Cleo Cole"]
    assert pick(mine="1") == ["Anna Adler", "Cleo Cole"]
    today = timezone.localdate().isoformat()
    assert pick(**{"from": today}) == ["Anna Adler", "Cleo Cole"]
    old = (timezone.localdate() - dt.timedelta(days=30)).isoformat()
    assert pick(to=old) == ["Bob Baker"]
    assert pick(status="bogus") == ["Anna Adler", "Bob Baker", "Cleo Cole"]


def test_sorting_by_headers(rep_client, inbox):
    assert names(rep_client.get(LIST, {"sort": "name"})) == ["Anna Adler", "Bob Baker", "Cleo Cole"]
    assert names(rep_client.get(LIST, {"sort": "-company"})) == [
        "Cleo Cole", "Bob Baker", "Anna Adler"]  # fmt: skip
    assert names(rep_client.get(LIST, {"sort": "-created"}))[-1] == "Bob Baker"
    response = rep_client.get(LIST, {"sort": "name"})
    assert ("-name", "Name ▲") in response.context["sort_columns"]


def test_empty_states_say_what_to_do(rep_client):
    assert "Add your first lead" in rep_client.get(LIST).content.decode()
    assert "Clear the filters" in rep_client.get(LIST, {"q": "zzz"}).content.decode()


def test_list_pages_by_50(rep_client, rep):
    for _ in range(51):
        LeadFactory(owner=rep)
    assert len(rep_client.get(LIST).context["page_obj"]) == 50
    assert len(rep_client.get(LIST, {"page": 2}).context["page_obj"]) == 1


# Bulk actions ---------------------------------------------------------------------------------


def test_bulk_assign_leaves_an_outsiders_lead_alone(manager_client, teammate, leads):
    ids = [leads["rep"].pk, leads["unowned"].pk, leads["outsider"].pk]
    response = manager_client.post(
        BULK, {"action": "assign", "owner": teammate.pk, "ids": ids, "next": f"{LIST}?q=x"}
    )
    assert response.url == f"{LIST}?q=x"
    owners = dict(Lead.objects.values_list("pk", "owner_id"))
    assert owners[leads["rep"].pk] == owners[leads["unowned"].pk] == teammate.pk
    assert owners[leads["outsider"].pk] == leads["outsider"].owner_id


def test_rep_can_only_assign_to_the_owners_offered(rep_client, rep, outsider, leads):
    ids = [leads["unowned"].pk, leads["outsider"].pk]
    response = rep_client.post(BULK, {"action": "assign", "owner": outsider.pk, "ids": ids},
                               follow=True)  # fmt: skip
    assert "Select a valid choice" in " ".join(str(m) for m in response.context["messages"])
    rep_client.post(BULK, {"action": "assign", "owner": rep.pk, "ids": ids})
    owners = dict(Lead.objects.values_list("pk", "owner_id"))
    assert owners[leads["unowned"].pk] == rep.pk
    assert owners[leads["outsider"].pk] == outsider.pk


def test_bulk_status(rep_client, leads):
    ids = [leads["rep"].pk, leads["outsider"].pk]
    response = rep_client.post(BULK, {"action": "status", "status": "qualifying", "ids": ids},
                               follow=True)  # fmt: skip
    assert "1 lead set to “Qualifying”." in [str(m) for m in response.context["messages"]]
    assert Lead.objects.get(pk=leads["rep"].pk).status == "qualifying"
    assert Lead.objects.get(pk=leads["outsider"].pk).status == "new"


def test_bulk_status_offers_and_takes_only_open_statuses(rep_client, leads):
    page = rep_client.get(LIST).content.decode()
    bulk = page[page.index('aria-label="New status"') :]
    bulk = bulk[: bulk.index("</select>")]
    assert 'value="qualifying"' in bulk and 'value="contacted"' in bulk
    assert not any(f'value="{s}"' in bulk for s in ("qualified", "nurturing", "disqualified"))
    ids = [leads["rep"].pk]
    response = rep_client.post(BULK, {"action": "status", "status": "qualified", "ids": ids},
                               follow=True)  # fmt: skip
    shown = " ".join(str(m) for m in response.context["messages"])
    assert "Only new, contacted or qualifying can be set here" in shown
    assert Lead.objects.get(pk=leads["rep"].pk).status == "new"


def test_bulk_trash(rep_client, leads):
    ids = [leads["rep"].pk, leads["unowned"].pk, leads["outsider"].pk]
    rep_client.post(BULK, {"action": "trash", "ids": ids})
    assert set(Lead.objects.values_list("pk", flat=True)) == {
        leads["teammate"].pk, leads["outsider"].pk}  # fmt: skip
    assert Lead.with_trashed.get(pk=leads["rep"].pk).deleted_at is not None


@pytest.mark.parametrize(
    ("data", "message"),
    [({"action": "trash"}, "Tick at least one lead first."),
     ({"action": "assign", "ids": "1"}, "Choose who the leads go to."),
     ({"action": "status", "ids": "1"}, "Choose the new status.")],
)  # fmt: skip
def test_bulk_without_what_it_needs_says_so(rep_client, data, message):
    response = rep_client.post(BULK, data, follow=True)
    assert message in " ".join(str(m) for m in response.context["messages"])


def test_bulk_ignores_an_offsite_next(rep_client, leads):
    response = rep_client.post(
        BULK, {"action": "trash", "ids": [leads["rep"].pk], "next": "https://evil.example/"}
    )
    assert response.url == LIST


def test_bulk_needs_post(rep_client):
    assert rep_client.get(BULK).status_code == 405


# Exports --------------------------------------------------------------------------------------


def test_csv_export_has_ids_all_fields_and_neutralises_formulas(rep_client, rep, leads):
    campaign = CampaignFactory(name="Fair")
    formula = LeadFactory(first_name="=SUM(1)", last_name="@cmd", company_name="+Acme",
                          notes="-2+3", owner=rep, source=source("Event"), campaign=campaign,
                          utm_source="google", marketing_consent=True)  # fmt: skip
    response = rep_client.get(LIST, {"format": "csv", "sort": "name"})
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    ids = {int(r["id"]) for r in rows}
    assert ids == {leads["rep"].pk, leads["unowned"].pk, formula.pk}  # visibility applies
    row = next(r for r in rows if int(r["id"]) == formula.pk)
    assert row["first_name"] == "'=SUM(1)"
    assert row["last_name"] == "'@cmd"
    assert row["company_name"] == "'+Acme"
    assert row["notes"] == "'-2+3"
    assert (row["source"], row["campaign"], row["utm_source"], row["owner"],
            row["marketing_consent"]) == ("Event", "Fair", "google", rep.email, "yes")  # fmt: skip
    for column in ["utm_medium", "utm_campaign", "utm_term", "utm_content", "consent_at",
                   "consent_method", "email", "phone", "status", "created_at"]:  # fmt: skip
        assert column in row


def test_csv_export_follows_the_filters(rep_client, leads):
    response = rep_client.get(LIST, {"format": "csv", "q": "bakery"})
    rows = list(
        csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")))
    )
    assert [int(r["id"]) for r in rows] == [leads["rep"].pk]


def test_xlsx_export_opens_and_has_the_rows(rep_client, rep, leads):
    LeadFactory(first_name="=HYPERLINK(1)", last_name="Bell\x07", owner=rep)
    response = rep_client.get(LIST, {"format": "xlsx", "sort": "name"})
    assert "spreadsheetml" in response["Content-Type"]
    assert ".xlsx" in response["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book["Leads"]
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert header[0] == "id" and "owner" in header and "utm_campaign" in header
    assert len(body) == 3
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in body}
    assert by_id[leads["rep"].pk]["owner"] == rep.email
    formula = next(r for r in by_id.values() if r["last_name"] == "Bell")
    assert formula["first_name"] == "'=HYPERLINK(1)"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


# Query counts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [5, 30])
def test_list_query_count_does_not_grow(rep_client, rep, django_assert_max_num_queries, rows):
    campaign = CampaignFactory()
    for _ in range(rows):
        LeadFactory(owner=rep, source=source("Event"), campaign=campaign)
    with django_assert_max_num_queries(LIST_QUERIES):
        response = rep_client.get(LIST, {"sort": "-owner", "q": "company"})
    assert len(response.context["page_obj"]) == rows


def test_list_and_export_queries_are_the_same_for_5_and_30_leads(rep_client, rep):
    campaign = CampaignFactory()

    def make(n: int) -> None:
        for _ in range(n):
            LeadFactory(owner=rep, source=source("Event"), campaign=campaign)

    def count(params: dict[str, str]) -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = rep_client.get(LIST, params)
            if params.get("format"):
                b"".join(response.streaming_content)
        return len(ctx.captured_queries)

    make(5)
    few = (count({}), count({"format": "csv"}), count({"format": "xlsx"}))
    make(25)
    assert (count({}), count({"format": "csv"}), count({"format": "xlsx"})) == few
