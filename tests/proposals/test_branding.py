"""The seller's logo and company details on proposals: set by admins, frozen with each version."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image
from pypdf import PdfReader

from closeloop.core.exceptions import DomainError
from closeloop.proposals.links import version_token
from closeloop.proposals.pdf import version_pdf
from closeloop.proposals.services import (
    branding_get,
    branding_update,
    proposal_create,
    proposal_send,
)

pytestmark = pytest.mark.django_db

DETAILS = "Pixel & Co GmbH\nHauptstraße 1, 10115 Berlin\nVAT DE123456789"


def png(colour: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_admin_sets_the_logo_and_details_on_the_settings_page(admin_client_: Client):
    url = reverse("proposals:branding")
    response = admin_client_.post(
        url,
        {
            "company_details": DETAILS,
            "logo": SimpleUploadedFile("logo.png", png("navy"), content_type="image/png"),
        },
    )
    assert response.status_code == 302
    branding = branding_get()
    assert branding.company_details == DETAILS and branding.logo_type == "image/png"
    assert 'src="data:image/png;base64,' in admin_client_.get(url).content.decode()


def test_reps_cannot_change_it(rep: Any, rep_client: Client):
    assert rep_client.get(reverse("proposals:branding")).status_code in (302, 403)
    with pytest.raises(DomainError):
        branding_update(actor=rep, company_details="Mine")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "PNG or JPEG"),
        (b"GIF89a" + b"\0" * 10, "PNG or JPEG"),
        (png("red") + b"\0" * (512 * 1024), "at most 512 KB"),
    ],
)
def test_only_small_png_or_jpeg_logos(admin: Any, content: bytes, message: str):
    with pytest.raises(DomainError, match=message) as error:
        branding_update(actor=admin, company_details="", logo_content=content)
    assert error.value.field == "logo"
    assert not branding_get().logo


def test_a_sent_version_keeps_the_logo_and_details_it_was_sent_with(
    admin: Any, rep: Any, bakery_deal: Any, web_template: Any, client: Client
):
    branding_update(actor=admin, company_details=DETAILS, logo_content=png("navy"))
    proposal = proposal_create(actor=rep, deal=bakery_deal, template=web_template)
    version = proposal_send(actor=rep, proposal=proposal)
    first_logo = version.snapshot["seller"]["logo"]

    branding_update(actor=admin, company_details="Other Ltd", logo_content=png("orange"))
    page = client.get(reverse("proposals_public:view", args=[version_token(version)]))
    html = page.content.decode()
    assert "Pixel &amp; Co GmbH<br>Hauptstraße 1, 10115 Berlin" in html
    assert "Other Ltd" not in html
    assert 'class="logo-image" src="data:image/png;base64,' in html
    assert branding_get().logo.name != first_logo  # the new logo did not overwrite the old

    pdf = PdfReader(io.BytesIO(version_pdf(version)))
    text = "\n".join(p.extract_text() for p in pdf.pages)
    assert "VAT DE123456789" in text and "Other Ltd" not in text
    assert any(p.images for p in pdf.pages), "the logo is in the PDF"
