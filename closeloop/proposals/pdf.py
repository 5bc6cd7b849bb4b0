"""The proposal as a PDF, printed by WeasyPrint from the same template as the page."""

from __future__ import annotations

from typing import Any

from closeloop.core.exceptions import DomainError

from .document import document_html, version_context
from .models import ProposalVersion

PANGO_MISSING = "PDF output needs the Pango library (see docs/operations.md)."


def html_pdf(html: str) -> bytes:
    """Print a standalone HTML page to PDF bytes."""
    # Imported here, not at the top: WeasyPrint loads Pango when imported, and the app must
    # still start (and every other page work) on a machine without it.
    try:
        from weasyprint import HTML
    except (OSError, ImportError) as exc:  # no Pango (OSError) or no WeasyPrint at all
        raise DomainError(PANGO_MISSING) from exc
    return bytes(HTML(string=html).write_pdf())


def document_pdf(context: dict[str, Any]) -> bytes:
    """The PDF of a document context (a version's, or the draft preview's)."""
    return html_pdf(document_html(context, for_pdf=True))


def version_pdf(version: ProposalVersion) -> bytes:
    """The PDF of a frozen version, exactly as its snapshot says."""
    return document_pdf(version_context(version))
