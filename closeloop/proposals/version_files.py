"""Handing out a proposal's PDF: the stored one of a sent version, or one printed now."""

from __future__ import annotations

from django.http import HttpResponse

from closeloop.core.exceptions import DomainError

from .models import ProposalVersion
from .pdf import version_pdf
from .services.sending import pdf_filename


def pdf_response(content: bytes, filename: str) -> HttpResponse:
    """PDF bytes as a download."""
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def pdf_unavailable(error: DomainError) -> HttpResponse:
    """No PDF can be printed here (no Pango): say so plainly."""
    return HttpResponse(error.message, status=503, content_type="text/plain; charset=utf-8")


def version_pdf_response(version: ProposalVersion) -> HttpResponse:
    """The PDF the customer was sent; a version frozen without one is printed from its snapshot."""
    if version.pdf:
        with version.pdf.open("rb") as stored:
            return pdf_response(stored.read(), pdf_filename(version))
    try:
        return pdf_response(version_pdf(version), pdf_filename(version))
    except DomainError as error:
        return pdf_unavailable(error)
