"""The trash purge: records in the trash longer than TRASH_DAYS are deleted for good.

What is deleted and what is kept, and why:
- Deals go first. A trashed deal already counts in no report: `deal_trash` took its facts and
  stage stays out of the rollup cells, so deleting it (with its stage history, proposals,
  plans and activities) changes no figure; `deal_facts_forget` runs first all the same, so the
  cells stay equal to the facts even for a deal trashed before the facts existed.
- Leads, contacts and organizations are kept while a deal (one that is not purged now) still
  names them: deleting them would unlink the deal (SET NULL), change the deal's report traits
  (industry, size) and cascade away activities the deal's timeline shows. They go once that
  deal is purged too, or is moved to another customer.
- A record something refuses to lose (a coupon already redeemed protects its contact's
  coupons) is kept, named in the result with the reason, and tried again the next day.
Each record is deleted in its own transaction with an audit entry, so one refusal does not
stop the rest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models.deletion import ProtectedError, RestrictedError
from django.utils import timezone

from .audit import audit_purged


@dataclass
class PurgeResult:
    """How many records of each kind were deleted, and which were kept and why."""

    purged: dict[str, int] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.purged.values())


def trash_cutoff(*, now: dt.datetime | None = None, days: int | None = None) -> dt.datetime:
    """Records trashed before this moment are due for the purge."""
    days = settings.TRASH_DAYS if days is None else days
    return (now or timezone.now()) - dt.timedelta(days=days)


def _still_named_by_deal(obj: models.Model) -> bool:
    from closeloop.leads.models import Lead
    from closeloop.people.models import Contact
    from closeloop.pipeline.models import Deal

    link = "lead" if isinstance(obj, Lead) else "contact" if isinstance(obj, Contact) else None
    link = link or "organization"
    return Deal.with_trashed.filter(**{link: obj}).exists()


def _purge_one(model: Any, pk: int, cutoff: dt.datetime, result: PurgeResult, noun: str) -> None:
    from closeloop.pipeline.facts import deal_facts_forget
    from closeloop.pipeline.models import Deal

    try:
        with transaction.atomic():
            # re-read under a lock: it may have been restored since the list was read
            obj = (
                model.with_trashed.select_for_update().filter(pk=pk, deleted_at__lt=cutoff).first()
            )
            if obj is None:
                return
            if isinstance(obj, Deal):
                deal_facts_forget(deal_ids=[obj.pk])
            elif _still_named_by_deal(obj):
                result.kept.append(f"{noun} #{obj.pk} “{obj}”: a deal still names it")
                return
            audit_purged(actor=None, obj=obj)
            obj.delete()
    except (ProtectedError, RestrictedError) as exc:
        blockers = sorted({type(o)._meta.verbose_name for o in exc.args[1]})  # type: ignore[attr-defined]
        result.kept.append(f"{noun} #{pk}: still needed by {', '.join(blockers)}")
        return
    result.purged[noun] = result.purged.get(noun, 0) + 1


def trash_purge(*, now: dt.datetime | None = None, days: int | None = None) -> PurgeResult:
    """Delete for good what has been in the trash longer than TRASH_DAYS (see module doc)."""
    from closeloop.leads.models import Lead
    from closeloop.people.models import Contact, Organization
    from closeloop.pipeline.models import Deal

    cutoff = trash_cutoff(now=now, days=days)
    result = PurgeResult()
    model: Any
    for model, noun in (
        (Deal, "deal"),
        (Lead, "lead"),
        (Contact, "contact"),
        (Organization, "organization"),
    ):
        due = model.with_trashed.filter(deleted_at__lt=cutoff).order_by("deleted_at", "pk")
        for pk in list(due.values_list("pk", flat=True)):
            _purge_one(model, pk, cutoff, result, noun)
    return result
