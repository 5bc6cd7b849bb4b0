"""Serving a material file: always as a download, never rendered by the browser."""

from __future__ import annotations

from django.http import FileResponse

from .models import Material

# Types a browser could run or render as a page are never sent as themselves.
ACTIVE_TYPES = ("text/html", "image/svg+xml", "application/xhtml+xml", "text/xml")


def material_response(material: Material) -> FileResponse:
    """The file as an attachment with its stored type (never HTML or SVG) and no sniffing."""
    content_type = (material.content_type or "").lower()
    if not content_type or content_type.startswith(ACTIVE_TYPES) or "script" in content_type:
        content_type = "application/octet-stream"
    response = FileResponse(
        material.file.open("rb"),
        as_attachment=True,
        filename=material.filename or "material",
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
