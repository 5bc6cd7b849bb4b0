"""Reads of the audit log: one record's history, and the admins' searchable log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q, QuerySet

from .models import AuditAction, AuditEntry

HISTORY_LIMIT = 100

# the record types the log page filters by: (key, app label, model name, label)
AUDITED_TYPES = (
    ("lead", "leads", "lead", "Leads"),
    ("contact", "people", "contact", "Contacts"),
    ("organization", "people", "organization", "Organizations"),
    ("deal", "pipeline", "deal", "Deals"),
    ("proposal", "proposals", "proposal", "Proposals"),
    ("coupon", "aftersales", "coupon", "Coupons"),
    ("user", "accounts", "user", "Users"),
    ("import", "leads", "importbatch", "Imports"),
    ("workspace", "accounts", "workspacesettings", "Workspace settings"),
)


def audit_history(*, obj: models.Model, limit: int = HISTORY_LIMIT) -> list[AuditEntry]:
    """A record's entries, newest first; the caller has already checked the user may see it.
    Two queries however many entries (the actor comes along, the content type is cached).

    A record an import created has no entry of its own (a big import would write a million);
    it names its import batch, shown here as the record's first entry."""
    content_type = ContentType.objects.get_for_model(obj, for_concrete_model=True)
    entries = list(
        AuditEntry.objects.filter(content_type=content_type, object_id=obj.pk)
        .select_related("actor", "content_type")
        .order_by("-created_at", "-pk")[:limit]
    )
    if getattr(obj, "import_batch_id", None) and not any(
        entry.action == AuditAction.CREATE for entry in entries
    ):
        entries.append(_imported_entry(obj, content_type))
    return entries


def _imported_entry(obj: Any, content_type: ContentType) -> AuditEntry:
    batch = obj.import_batch
    who = batch.created_by
    return AuditEntry(
        content_type=content_type,
        object_id=obj.pk,
        object_label=str(obj)[:200],
        actor=who,
        actor_label=str(who or ""),
        action=AuditAction.IMPORT,
        changes={"import": [None, {"id": batch.pk, "label": f"{batch} (import #{batch.pk})"}]},
        created_at=batch.created_at,
    )


@dataclass(frozen=True)
class AuditFilters:
    record_type: str = ""
    actor_id: int | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    text: str = ""


def audit_log(*, user: Any, filters: AuditFilters) -> QuerySet[AuditEntry]:
    """The whole log for admins (anyone else gets nothing), narrowed by the filters."""
    if not getattr(user, "is_admin", False):
        return AuditEntry.objects.none()
    qs = AuditEntry.objects.select_related("actor", "content_type").order_by("-created_at", "-pk")
    kinds = {key: (app, model) for key, app, model, _ in AUDITED_TYPES}
    if filters.record_type in kinds:
        app, model = kinds[filters.record_type]
        qs = qs.filter(content_type=ContentType.objects.get_by_natural_key(app, model))
    if filters.actor_id is not None:
        qs = qs.filter(actor_id=filters.actor_id)
    if filters.since is not None:
        qs = qs.filter(created_at__date__gte=filters.since)
    if filters.until is not None:
        qs = qs.filter(created_at__date__lte=filters.until)
    text = filters.text.strip()
    if text:
        condition = Q(object_label__icontains=text) | Q(actor_label__icontains=text)
        if text.isdigit():
            condition |= Q(object_id=int(text))
        qs = qs.filter(condition)
    return qs


def audit_since(*, obj: models.Model, version: int) -> list[AuditEntry]:
    """A versioned record's entries written after `version`, oldest first: what a stale edit
    missed. Entries of writes that carried no version are left out."""
    content_type = ContentType.objects.get_for_model(obj, for_concrete_model=True)
    return list(
        AuditEntry.objects.filter(
            content_type=content_type, object_id=obj.pk, record_version__gt=version
        )
        .select_related("actor", "content_type")
        .order_by("created_at", "pk")[:HISTORY_LIMIT]
    )
