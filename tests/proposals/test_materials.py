"""Materials: size limit, type from the content, stored, downloaded only as attachments by
those who may see the template or proposal."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from closeloop.core.exceptions import DomainError
from closeloop.proposals.models import Material, Proposal
from closeloop.proposals.services import material_upload, proposal_create
from closeloop.proposals.services.materials import material_sniff

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _office(part: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(part, "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("spec.pdf", PDF, "application/pdf"),
        ("photo.png", PNG, "image/png"),
        ("photo.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 20, "image/jpeg"),
        ("anim.gif", b"GIF89a" + b"\x00" * 20, "image/gif"),
        ("pic.webp", b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 8, "image/webp"),
        (
            "guide.docx",
            _office("word/document.xml"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            "prices.xlsx",
            _office("xl/workbook.xml"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (
            "deck.pptx",
            _office("ppt/presentation.xml"),
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        ("notes.txt", "Größe: 3 × 4 m\n".encode(), "text/plain"),
        ("rates.csv", b"item,price\nhosting,49\n", "text/csv"),
        ("spec.pdf.txt", PDF, "application/pdf"),  # the content decides, not the name
    ],
)
def test_accepted_types_are_sniffed_from_the_content(name: str, content: bytes, expected: str):
    assert material_sniff(name, content) == expected


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("spec.pdf", b"<!DOCTYPE html><html><script>alert(1)</script>", "is HTML, SVG or XML"),
        ("logo.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "HTML, SVG"),
        ("notes.txt", b"  \n<html><body>hi</body></html>", "HTML, SVG"),
        ("readme.txt", b"hello <script>alert(1)</script>", "HTML, SVG"),
        ("setup.pdf", b"MZ\x90\x00\x03" + b"\x00" * 40, "is a program"),
        ("tool", b"\x7fELF\x02\x01\x01" + b"\x00" * 40, "is a program"),
        ("run.txt", b"#!/bin/sh\nrm -rf /\n", "is a program"),
        ("archive.zip", _office("random.txt"), "only Word, Excel and PowerPoint"),
        ("blob.bin", bytes(range(256)) * 4, "is not a type we accept"),
    ],
)
def test_refused_types(name: str, content: bytes, message: str):
    with pytest.raises(DomainError, match=message):
        material_sniff(name, content)


def test_the_size_limit_and_empty_files(rep: Any, settings: Any):
    settings.PROPOSAL_MATERIAL_MAX_BYTES = 100
    with pytest.raises(DomainError, match="larger than 100 bytes"):
        material_upload(actor=rep, filename="big.txt", content=b"a" * 101)
    material_upload(actor=rep, filename="ok.txt", content=b"a" * 100)
    with pytest.raises(DomainError, match="is empty"):
        material_upload(actor=rep, filename="empty.txt", content=b"")
    settings.PROPOSAL_MATERIAL_MAX_BYTES = 20 * 1024 * 1024
    with pytest.raises(DomainError, match="larger than 20 MB"):
        material_upload(
            actor=rep, filename="huge.pdf", content=io.BytesIO(PDF + b"0" * 20 * 1024 * 1024)
        )


def test_an_upload_is_stored_with_its_sniffed_type(rep: Any):
    material = material_upload(actor=rep, filename="../../etc/Spec sheet.pdf", content=PDF)
    assert material.filename == "Spec sheet.pdf" and material.content_type == "application/pdf"
    assert material.size == len(PDF) and material.uploaded_by == rep
    with material.file.open("rb") as stored:
        assert stored.read() == PDF
    assert "etc" not in material.file.name


@pytest.fixture
def proposal(rep: Any, bakery_deal: Any) -> Proposal:
    return proposal_create(actor=rep, deal=bakery_deal, title="Offer")


def test_several_files_upload_to_a_proposal_at_once(rep_client: Any, proposal: Proposal):
    files = [
        SimpleUploadedFile("spec.pdf", PDF, content_type="application/pdf"),
        SimpleUploadedFile("prices.csv", b"a,b\n1,2\n", content_type="text/csv"),
    ]
    response = rep_client.post(reverse("proposals:materials", args=[proposal.pk]), {"files": files})
    assert response.status_code == 302
    assert sorted(m.filename for m in proposal.materials.all()) == ["prices.csv", "spec.pdf"]
    page = rep_client.get(reverse("proposals:detail", args=[proposal.pk])).content.decode()
    assert "spec.pdf" in page and "prices.csv" in page


def test_one_refused_file_stores_none(rep_client: Any, proposal: Proposal):
    files = [
        SimpleUploadedFile("spec.pdf", PDF),
        SimpleUploadedFile("invoice.pdf", b"<html><script>steal()</script></html>"),
    ]
    response = rep_client.post(
        reverse("proposals:materials", args=[proposal.pk]), {"files": files}, follow=True
    )
    assert "“invoice.pdf” is HTML, SVG or XML" in response.content.decode()
    assert proposal.materials.count() == 0 and Material.objects.count() == 0


def test_a_material_downloads_as_an_attachment_only(rep: Any, rep_client: Any, proposal: Proposal):
    rep_client.post(
        reverse("proposals:materials", args=[proposal.pk]),
        {"files": [SimpleUploadedFile("notes.txt", b"plain notes\n", content_type="text/html")]},
    )
    material = proposal.materials.get()
    response = rep_client.get(reverse("proposals:material_download", args=[material.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="notes.txt"'
    assert response["Content-Type"] == "text/plain"  # sniffed, not what the browser claimed
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == b"plain notes\n"


def test_an_unknown_stored_type_is_served_as_octet_stream(rep: Any, proposal: Proposal):
    from closeloop.proposals.materials_http import material_response

    material = material_upload(actor=rep, filename="x.txt", content=b"text")
    material.content_type = "text/html"  # e.g. a row written by hand
    response = material_response(material)
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")


def test_materials_follow_visibility(
    rep: Any, rep_client: Any, outsider_client: Any, proposal: Proposal, web_template: Any
):
    on_proposal = material_upload(actor=rep, filename="private.pdf", content=PDF)
    proposal.materials.add(on_proposal)
    on_template = material_upload(actor=rep, filename="brochure.pdf", content=PDF)
    web_template.materials.add(on_template)
    loose = material_upload(actor=rep, filename="loose.pdf", content=PDF)
    url = "proposals:material_download"
    assert outsider_client.get(reverse(url, args=[on_proposal.pk])).status_code == 404
    assert outsider_client.get(reverse(url, args=[on_template.pk])).status_code == 200
    assert rep_client.get(reverse(url, args=[on_proposal.pk])).status_code == 200
    assert rep_client.get(reverse(url, args=[loose.pk])).status_code == 404
    upload = {"files": [SimpleUploadedFile("x.pdf", PDF)]}
    assert (
        outsider_client.post(reverse("proposals:materials", args=[proposal.pk]), upload).status_code
        == 404
    )


def test_template_materials_by_managers(manager_client: Any, rep_client: Any, web_template: Any):
    url = reverse("proposals:template_materials", args=[web_template.pk])

    def upload() -> dict[str, Any]:
        return {"files": [SimpleUploadedFile("guide.pdf", PDF), SimpleUploadedFile("a.png", PNG)]}

    assert rep_client.post(url, upload()).status_code == 403
    manager_client.post(url, upload())
    assert web_template.materials.count() == 2
    page = manager_client.get(reverse("proposals:template_edit", args=[web_template.pk]))
    assert "guide.pdf" in page.content.decode()
    guide = web_template.materials.get(filename="guide.pdf")
    manager_client.post(url, {"remove": guide.pk})
    assert [m.filename for m in web_template.materials.all()] == ["a.png"]


def test_a_proposal_from_a_template_carries_its_materials(
    rep: Any, manager: Any, bakery_deal: Any, web_template: Any
):
    web_template.materials.add(material_upload(actor=manager, filename="guide.pdf", content=PDF))
    proposal = proposal_create(actor=rep, deal=bakery_deal, template=web_template)
    assert [m.filename for m in proposal.materials.all()] == ["guide.pdf"]
