"""The import pages through the HTTP client: upload → mapping → preview → run → result →
failed rows → undo, with the background task run inline (immediate backend)."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from closeloop.leads.choices import ImportState
from closeloop.leads.models import ImportBatch, Lead

pytestmark = pytest.mark.django_db

DATA = (
    "First Name,Last Name,Email,Lead Status,Shoe size\n"
    "Anna,Berg,anna@x.example,Open,38\n"
    "Ben,Costa,not-an-email,Open,44\n"
    "Anna,Berg,anna@x.example,Open,38\n"
    "Carl,Dorn,carl@x.example,Hot,41\n"
)


def upload(client, data: bytes, name: str = "leads.csv", kind: str = "leads"):
    return client.post("/imports/new/", {"kind": kind, "file": SimpleUploadedFile(name, data)})


def mapping_post(batch: ImportBatch, **extra) -> dict:
    data = {
        "save": "1",
        "mode": "create",
        "match_on": "email",
        "date_order": "",
        "mapping_name": "",
    }
    for i, header in enumerate(batch.options["headers"]):
        data[f"col_{i}"] = batch.mapping.get(header, "")
    return {**data, **extra}


def test_the_whole_journey(admin_client_):
    response = upload(admin_client_, DATA.encode())
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{batch.pk}/mapping/"

    page = admin_client_.get(f"/imports/{batch.pk}/mapping/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="first_name" selected' in html and "Shoe size" in html and "Hot" in html

    # "Hot" is not one of our statuses: map it on the value screen; save the mapping by name
    values = page.context["form"].values
    hot = next(i for i, v in enumerate(values) if v.value == "Hot")
    response = admin_client_.post(
        f"/imports/{batch.pk}/mapping/",
        mapping_post(batch, mapping_name="Trade fair list", **{f"val_{hot}": "qualifying"}),
    )
    assert response.status_code == 302 and response["Location"] == f"/imports/{batch.pk}/preview/"

    preview = admin_client_.get(f"/imports/{batch.pk}/preview/")
    assert preview.status_code == 200
    text = preview.content.decode()
    assert "not a valid email address" in text and "same email as row 2" in text
    assert not Lead.objects.exists()

    response = admin_client_.post(f"/imports/{batch.pk}/run/", {"dry_run": "1"})
    assert response.status_code == 302
    batch.refresh_from_db()
    assert (batch.state, batch.dry_run, batch.created_count) == (ImportState.DONE, True, 2)
    assert not Lead.objects.exists()

    admin_client_.post(f"/imports/{batch.pk}/run/")
    batch.refresh_from_db()
    assert (batch.state, batch.dry_run) == (ImportState.DONE, False)
    assert (batch.created_count, batch.skipped_count, batch.failed_count) == (2, 1, 1)
    assert Lead.objects.get(email="carl@x.example").status == "qualifying"

    result = admin_client_.get(f"/imports/{batch.pk}/")
    assert "The counts add up" in result.content.decode()
    status = admin_client_.get(f"/imports/{batch.pk}/status/", HTTP_HX_REQUEST="true")
    assert status["HX-Refresh"] == "true" and b"every 1s" not in status.content

    failed = admin_client_.get(f"/imports/{batch.pk}/failed.csv")
    rows = list(csv.reader(io.StringIO(b"".join(failed.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["First Name", "Last Name", "Email", "Lead Status", "Shoe size", "error"]
    assert rows[1][:3] == ["Ben", "Costa", "not-an-email"] and "Email:" in rows[1][5]

    admin_client_.post(f"/imports/{batch.pk}/undo/")
    assert not Lead.objects.exists() and Lead.with_trashed.count() == 2
    assert ImportBatch.objects.get().state == ImportState.UNDONE

    listing = admin_client_.get("/imports/")
    assert "leads.csv" in listing.content.decode()

    # the saved mapping is offered for the next file of the same kind
    upload(admin_client_, DATA.encode(), name="again.csv")
    again = ImportBatch.objects.get(file_name="again.csv")
    assert "Trade fair list" in admin_client_.get(f"/imports/{again.pk}/mapping/").content.decode()


def test_progress_page_polls_while_running(admin_client_, admin):
    upload(admin_client_, DATA.encode())
    batch = ImportBatch.objects.get()
    ImportBatch.objects.filter(pk=batch.pk).update(
        state=ImportState.RUNNING, rows_read=2, rows_total=4
    )
    page = admin_client_.get(f"/imports/{batch.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in page and "You can leave this page" in page


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "empty.csv", "0 bytes"),
        (b"First Name,Email\n", "header.csv", "no data rows"),
        (b"%PDF-1.4", "doc.pdf", "not a CSV or XLSX file"),
    ],
)
def test_bad_uploads_get_a_clear_message(admin_client_, data, name, message):
    response = upload(admin_client_, data, name=name)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_upload_over_the_limit(admin_client_, settings):
    settings.IMPORT_MAX_BYTES = 100
    response = upload(admin_client_, DATA.encode())
    assert response.status_code == 400 and "files up to" in response.content.decode()


def test_missing_required_column_is_shown_on_the_mapping_page(admin_client_):
    upload(admin_client_, b"Favourite colour\nred\n")
    batch = ImportBatch.objects.get()
    response = admin_client_.post(f"/imports/{batch.pk}/mapping/", mapping_post(batch))
    assert response.status_code == 400
    assert "a name, email, phone or company column" in response.content.decode()


def test_ambiguous_dates_ask_for_the_order(admin_client_):
    upload(admin_client_, b"Deal Name,Close Date\nA,01/02/2024\n", kind="deals")
    batch = ImportBatch.objects.get()
    page = admin_client_.get(f"/imports/{batch.pk}/mapping/").content.decode()
    assert "can be read day-first or month-first" in page
    response = admin_client_.post(f"/imports/{batch.pk}/mapping/",
                                  mapping_post(batch, match_on="external_id"))  # fmt: skip
    assert "choose the date order" in response.content.decode()


def test_reps_get_403_and_managers_see_their_imports(rep_client, manager_client, admin_client_):
    assert rep_client.get("/imports/").status_code == 403
    assert rep_client.get("/imports/new/").status_code == 403
    upload(admin_client_, DATA.encode())
    batch = ImportBatch.objects.get()
    assert rep_client.get(f"/imports/{batch.pk}/").status_code == 403
    assert manager_client.get(f"/imports/{batch.pk}/").status_code == 404  # the admin's, not theirs
    assert manager_client.get("/imports/new/").status_code == 200
