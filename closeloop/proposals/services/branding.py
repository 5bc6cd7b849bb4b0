"""The seller's logo and company details on every proposal (admins set them)."""

from __future__ import annotations

import base64
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction

from closeloop.accounts.actors import require_admin
from closeloop.core.exceptions import DomainError

from ..models import Branding

LOGO_MAX_BYTES = 512 * 1024
# raster images only: an SVG can carry script, and the logo is shown on public pages
LOGO_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
MAX_DETAILS = 2000


def branding_get() -> Branding:
    """The one branding row (created empty on first use)."""
    branding, _ = Branding.objects.get_or_create(pk=1)
    return branding


def logo_type_of(content: bytes) -> str:
    for magic, content_type in LOGO_TYPES.items():
        if content.startswith(magic):
            return content_type
    raise DomainError("The logo must be a PNG or JPEG image.", field="logo")


@transaction.atomic
def branding_update(
    *,
    actor: Any,
    company_details: str,
    logo_content: bytes | None = None,
    remove_logo: bool = False,
) -> Branding:
    """Set the company details and, when given, a new logo (PNG or JPEG up to 512 KB). A new
    logo is stored under a new name, so versions already sent keep the one they were sent with."""
    require_admin(actor, "Only admins can change the company details on proposals.")
    details = "\n".join(line.rstrip() for line in (company_details or "").strip().splitlines())
    if len(details) > MAX_DETAILS:
        raise DomainError(
            f"The company details can be at most {MAX_DETAILS:,} characters.",
            field="company_details",
        )
    branding = Branding.objects.select_for_update().get(pk=branding_get().pk)
    branding.company_details = details
    if logo_content is not None:
        if len(logo_content) > LOGO_MAX_BYTES:
            raise DomainError("The logo can be at most 512 KB.", field="logo")
        branding.logo_type = logo_type_of(logo_content)
        extension = ".png" if branding.logo_type == "image/png" else ".jpg"
        branding.logo.save(f"logo{extension}", ContentFile(logo_content), save=False)
    elif remove_logo:
        branding.logo = ""  # type: ignore[assignment]
        branding.logo_type = ""
    branding.save()
    return branding


def logo_data_uri(name: str, content_type: str) -> str:
    """A stored logo as a data: URI, so the page and the PDF embed it with no second request
    (and the public page needs no file endpoint). Empty when the file is gone."""
    if not name or content_type not in LOGO_TYPES.values():
        return ""
    from django.core.files.storage import default_storage

    try:
        with default_storage.open(name, "rb") as handle:
            content = handle.read(LOGO_MAX_BYTES + 1)
    except OSError:
        return ""
    return f"data:{content_type};base64,{base64.b64encode(content).decode()}"
