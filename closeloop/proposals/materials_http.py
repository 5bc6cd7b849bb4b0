"""How a material leaves the server: always as a download, never as a page a browser renders."""

from __future__ import annotations

from django.http import FileResponse

from .models import Material
from .services.materials import ALLOWED_TYPES


def material_response(material: Material) -> FileResponse:
    """The material as an attachment with the type sniffed at upload (octet-stream for anything
    else), `nosniff` and a sandboxing CSP, so no browser runs it as HTML or SVG."""
    content_type = (
        material.content_type
        if material.content_type in ALLOWED_TYPES
        else "application/octet-stream"
    )
    response = FileResponse(
        material.file.open("rb"),
        as_attachment=True,
        filename=material.filename,
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
