"""Uploads: size limits that name the file and the limit, types judged from the content (not
the name or the browser's word), and stored files never served as a page a browser renders."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import Workbook

from closeloop.core.uploads import content_type_of, served_type, size_text, too_large
from closeloop.leads.models import ImportBatch
from closeloop.messaging.models import Message

pytestmark = pytest.mark.django_db

HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _zip(*parts: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for part in parts:
            archive.writestr(part, "<x/>")
    return buffer.getvalue()


def _workbook() -> bytes:
    book = Workbook()
    book.active.append(["First Name", "Last Name", "Email"])
    book.active.append(["Anna", "Berg", "anna@example.com"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        (PDF, "notes.txt", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "x.html", "image/png"),
        (_zip("[Content_Types].xml", "word/document.xml"), "a.zip",
         "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (_zip("readme.txt"), "report.docx", "application/zip"),
        (HTML, "invoice.pdf", "text/html"),
        (SVG, "logo.png", "image/svg+xml"),
        (b'<?xml version="1.0"?><note/>', "data.txt", "application/xml"),
        (b"MZ\x90\x00" + b"\x00" * 40, "setup.pdf", "application/x-executable"),
        (b"name,email\nAnna,anna@example.com\n", "list.csv", "text/csv"),
        (b"Just words.\n", "list.pdf", "text/plain"),
        (bytes(range(256)) * 4, "data.csv", "application/octet-stream"),
    ],
)  # fmt: skip
def test_the_type_comes_from_the_content(content: bytes, name: str, expected: str):
    assert content_type_of(content, name) == expected


@pytest.mark.parametrize(
    ("claimed", "served"),
    [
        ("application/pdf", "application/pdf"),
        ("image/png", "image/png"),
        ("text/html", "application/octet-stream"),
        ("text/html; charset=utf-8", "application/octet-stream"),
        ("image/svg+xml", "application/octet-stream"),
        ("application/xhtml+xml", "application/octet-stream"),
        ("text/javascript", "application/octet-stream"),
        ("", "application/octet-stream"),
    ],
)
def test_only_plain_document_types_are_served_as_such(claimed: str, served: str):
    assert served_type(claimed) == served


def test_size_messages_name_the_file_and_the_limit():
    assert size_text(20 * 1024 * 1024) == "20 MB"
    assert size_text(1024 * 1024 + 1) == "1.1 MB"  # just over a limit never reads as the limit
    assert size_text(900) == "900 bytes"
    assert too_large("big.pdf", 1024 * 1024, 3 * 1024 * 1024) == (
        "“big.pdf” is 3 MB; at most 1 MB is accepted here."
    )


# --- the import upload -------------------------------------------------------------------------


def _upload(client: Client, content: bytes, name: str) -> Any:
    return client.post(
        "/imports/new/", {"kind": "leads", "file": SimpleUploadedFile(name, content)}
    )


def test_an_import_reads_a_workbook_whatever_its_name(admin_client_):
    response = _upload(admin_client_, _workbook(), "leads.csv")
    assert response.status_code == 302
    batch = ImportBatch.objects.get()
    assert batch.options["headers"] == ["First Name", "Last Name", "Email"]


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (_zip("[Content_Types].xml", "word/document.xml"), "leads.xlsx",
         "“leads.xlsx” is a ZIP archive but not an Excel workbook"),
        (_zip("leads.csv"), "leads.zip", "is a ZIP archive but not an Excel workbook"),
        (HTML, "leads.xlsx", "“leads.xlsx” is not a valid XLSX file."),
        (b"MZ\x90\x00" + bytes(range(256)) * 8, "leads.csv", "holds binary data"),
    ],
)  # fmt: skip
def test_an_import_refuses_what_the_content_shows_it_is_not(admin_client_, content, name, message):
    response = _upload(admin_client_, content, name)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_an_import_over_the_limit_names_the_file_and_the_limit(admin_client_, settings):
    settings.IMPORT_MAX_BYTES = 1024
    response = _upload(admin_client_, b"Email\n" + b"a@example.com\n" * 200, "big.csv")
    assert "“big.csv” is 2.8 KB; files up to 1 KB can be imported." in response.content.decode()


# --- email attachments -------------------------------------------------------------------------


def _compose(client: Client, deal: Any, *files: SimpleUploadedFile) -> Any:
    return client.post(f"/email/deal/{deal.pk}/", {
        "template": "", "to": "lena@bakery.example", "cc": "", "bcc": "",
        "subject": "Files", "text_body": "Attached.", "html_body": "", "attachments": list(files),
    })  # fmt: skip


def test_attachments_get_the_type_of_their_content_not_the_browsers(rep_client, bakery_deal):
    response = _compose(
        rep_client, bakery_deal,
        SimpleUploadedFile("quote.pdf", PDF, "text/html"),
        SimpleUploadedFile("invoice.pdf", HTML, "application/pdf"),
    )  # fmt: skip
    assert response.status_code == 302
    stored = {a.filename: a.content_type for a in Message.objects.get().attachments.all()}
    assert stored == {"quote.pdf": "application/pdf", "invoice.pdf": "text/html"}


def test_a_stored_file_is_always_a_download_never_a_page(rep_client, bakery_deal):
    _compose(rep_client, bakery_deal, SimpleUploadedFile("invoice.html", HTML, "text/html"),
             SimpleUploadedFile("logo.svg", SVG, "image/svg+xml"))  # fmt: skip
    message = Message.objects.get()
    for attachment in message.attachments.all():
        response = rep_client.get(f"/outbox/{message.pk}/attachments/{attachment.pk}/")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert b"".join(response.streaming_content).startswith(b"<")


def test_uploaded_files_have_no_public_address(rep_client, bakery_deal, settings):
    _compose(rep_client, bakery_deal, SimpleUploadedFile("quote.pdf", PDF, "application/pdf"))
    stored = Message.objects.get().attachments.get().file
    assert (settings.MEDIA_ROOT / stored.name).exists()
    for prefix in ("/media/", "/", "/static/"):
        assert Client().get(prefix + stored.name).status_code == 404
        assert rep_client.get(prefix + stored.name).status_code == 404
