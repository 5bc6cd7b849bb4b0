"""Deciding about a flagged pair of look-alike records (merging lives in leads/merge.py)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from closeloop.accounts.actors import acting_user

from ..choices import DuplicateState
from ..models import DuplicatePair


@transaction.atomic
def duplicate_dismiss(*, actor: Any, pair: DuplicatePair) -> DuplicatePair:
    """Mark a flagged pair as not the same person; it is not shown again."""
    pair.state = DuplicateState.DISMISSED
    pair.resolved_by = acting_user(actor)
    pair.resolved_at = timezone.now()
    pair.save(update_fields=["state", "resolved_by", "resolved_at", "updated_at"])
    return pair
