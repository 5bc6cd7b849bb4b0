"""Materials (spec sheets, guides) uploaded to templates and proposals: size and type checked
from the content itself, so a file is what it says it is before anyone downloads it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath
from typing import IO, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from closeloop.accounts.actors import acting_user, require_admin_or_manager
from closeloop.core.exceptions import DomainError
from closeloop.core.uploads import (
    EXCEL,
    EXECUTABLE,
    MARKUP_TYPES,
    POWERPOINT,
    WORD,
    ZIP,
    content_type_of,
    too_large,
)

from ..models import Material, Proposal, ProposalTemplate
from .catalogue import MANAGERS_ONLY
from .proposals import proposal_lock

# the only types a material may have; anything else (executables, HTML, SVG) is refused
ALLOWED_TYPES = {
    "application/pdf": "PDF",
    "image/png": "PNG image",
    "image/jpeg": "JPEG image",
    "image/gif": "GIF image",
    "image/webp": "WEBP image",
    WORD: "Word document",
    EXCEL: "Excel workbook",
    POWERPOINT: "PowerPoint",
    "text/plain": "text",
    "text/csv": "CSV",
}
MAX_NAME = 200


def material_sniff(name: str, content: bytes) -> str:
    """The file's type judged from its bytes (never its name); refused unless it is a type
    materials may have."""
    content_type = content_type_of(content, name)
    if content_type in ALLOWED_TYPES:
        return content_type
    if content_type == ZIP:
        raise DomainError(
            f"“{name}” is a ZIP archive; only Word, Excel and PowerPoint documents are accepted.",
            field="files",
        )
    if content_type in MARKUP_TYPES:
        raise DomainError(
            f"“{name}” is HTML, SVG or XML; upload a PDF or a plain document instead.",
            field="files",
        )
    if content_type == EXECUTABLE:
        raise DomainError(f"“{name}” is a program; programs cannot be attached.", field="files")
    raise DomainError(
        f"“{name}” is not a type we accept: PDF, images (PNG, JPEG, GIF, WEBP), Word, "
        "Excel, PowerPoint, plain text or CSV.",
        field="files",
    )


def _read(content: bytes | IO[bytes], *, name: str) -> bytes:
    limit = settings.PROPOSAL_MATERIAL_MAX_BYTES
    data = content if isinstance(content, bytes) else content.read(limit + 1)
    if len(data) > limit:
        raise DomainError(too_large(name, limit), field="files")
    if not data:
        raise DomainError(f"“{name}” is empty.", field="files")
    return data


def _checked(filename: str, content: bytes | IO[bytes]) -> Material:
    name = PurePath((filename or "").replace("\\", "/")).name.strip()[:MAX_NAME] or "material"
    data = _read(content, name=name)
    material = Material(filename=name, content_type=material_sniff(name, data), size=len(data))
    material.file = ContentFile(data, name=name)  # type: ignore[assignment]
    return material


def _store(actor: Any, checked: Sequence[Material]) -> list[Material]:
    # every file is checked before any is written, so a refused one leaves nothing behind
    for material in checked:
        material.uploaded_by = acting_user(actor)
        material.save()
    return list(checked)


@transaction.atomic
def material_upload(*, actor: Any, filename: str, content: bytes | IO[bytes]) -> Material:
    """Store an uploaded material after checking its size and its type (from its content)."""
    return _store(actor, [_checked(filename, content)])[0]


Upload = tuple[str, "bytes | IO[bytes]"]


@transaction.atomic
def template_materials_add(
    *, actor: Any, template: ProposalTemplate, uploads: Sequence[Upload]
) -> list[Material]:
    """Upload several files to a template at once; one refused file stores none of them."""
    require_admin_or_manager(actor, MANAGERS_ONLY)
    materials = _store(actor, [_checked(n, c) for n, c in uploads])
    template.materials.add(*materials)
    return materials


@transaction.atomic
def template_material_remove(*, actor: Any, template: ProposalTemplate, material: Material) -> None:
    """Take a material off a template; proposals that carry it keep it."""
    require_admin_or_manager(actor, MANAGERS_ONLY)
    template.materials.remove(material)


def _proposal_touch(proposal: Proposal) -> None:
    # the materials are part of what is sent: a stale editor must not overwrite this change
    proposal.version += 1
    proposal.save(update_fields=["version", "updated_at"])


@transaction.atomic
def proposal_materials_add(
    *, actor: Any, proposal: Proposal, uploads: Sequence[Upload]
) -> list[Material]:
    """Upload several files to a proposal at once; one refused file stores none of them."""
    proposal = proposal_lock(proposal)
    materials = _store(actor, [_checked(n, c) for n, c in uploads])
    proposal.materials.add(*materials)
    _proposal_touch(proposal)
    return materials


@transaction.atomic
def proposal_material_remove(*, actor: Any, proposal: Proposal, material: Material) -> None:
    """Take a material off a proposal (versions already sent keep listing it)."""
    proposal = proposal_lock(proposal)
    proposal.materials.remove(material)
    _proposal_touch(proposal)
