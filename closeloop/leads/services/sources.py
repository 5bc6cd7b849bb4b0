"""The list of lead sources (admins and managers)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max

from closeloop.accounts.actors import require_admin_or_manager
from closeloop.core.exceptions import ConflictError, DomainError

from ..models import Source

ONLY_MANAGERS = "Only admins and managers can change sources and campaigns."


def clean_source_name(name: str, *, exclude_pk: int | None = None) -> str:
    """A source's name, trimmed: required, and no other source has it (in any capitals)."""
    name = (name or "").strip()
    if not name:
        raise DomainError("A source needs a name.", field="name")
    same_name = Source.objects.filter(name__iexact=name)
    if exclude_pk is not None:
        same_name = same_name.exclude(pk=exclude_pk)
    if same_name.exists():
        raise ConflictError(f"“{name}” is already a source.", field="name")
    return name[:120]


@transaction.atomic
def source_create(*, actor: Any, name: str) -> Source:
    """Add a lead source to the list."""
    require_admin_or_manager(actor, ONLY_MANAGERS)
    name = clean_source_name(name)
    position = (Source.objects.aggregate(m=Max("position"))["m"] or 0) + 1
    return Source.objects.create(name=name, position=position)


@transaction.atomic
def source_update(*, actor: Any, source: Source, name: str, is_active: bool) -> Source:
    """Rename a source or retire it (leads keep it)."""
    require_admin_or_manager(actor, ONLY_MANAGERS)
    source.name, source.is_active = clean_source_name(name, exclude_pk=source.pk), is_active
    source.save(update_fields=["name", "is_active", "updated_at"])
    return source
