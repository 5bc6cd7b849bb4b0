"""What importing organizations and contacts share: cleaning text, matching, the chunk loop.

An organization a contact or deal row names is found by name, or created as part of the import
(so undo removes it).
"""

from __future__ import annotations

from typing import Any

from django.core.validators import URLValidator
from django.db.models.functions import Lower

from closeloop.people.models import Organization

from ..choices import ImportMode, RowOutcome
from .engine import Handler, Outcome, RowError, RowIn, RunContext
from .resolvers import OwnerResolver
from .values import ValueProblem, cell_text

ORG_LIMITS = {
    "name": 200,
    "domain": 200,
    "website": 200,
    "phone": 50,
    "industry": 100,
    "size": 30,
    "external_id": 100,
    "address": 10_000,
    "notes": 100_000,
}
CONTACT_LIMITS = {
    "first_name": 100,
    "last_name": 100,
    "job_title": 150,
    "external_id": 100,
    "notes": 100_000,
}
LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "job_title": "Job title",
    "external_id": "ID in the other system",
    "domain": "Domain",
    "website": "Website",
    "name": "Name",
    "phone": "Phone",
    "industry": "Industry",
    "size": "Size",
    "address": "Address",
    "notes": "Notes",
}
_URL = URLValidator()


def clean_text(raw: dict[str, Any], limits: dict[str, int]) -> dict[str, Any]:
    out = {}
    for name, limit in limits.items():
        if name in raw:
            text = cell_text(raw[name])
            if len(text) > limit:
                raise RowError(LABELS[name], f"can be at most {limit:,} characters long")
            out[name] = text
    return out


def clean_domain(text: str) -> str:
    text = text.strip().lower().removeprefix("https://").removeprefix("http://")
    return text.removeprefix("www.").split("/")[0]


class OrganizationFinder:
    """Organizations named in rows: an existing one with that name, or one the import adds."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.cache: dict[str, Organization] = {}

    def load(self, names: set[str]) -> None:
        wanted = {n.lower() for n in names if n} - self.cache.keys()
        if not wanted:
            return
        existing = Organization.objects.annotate(lname=Lower("name")).filter(lname__in=wanted)
        for org in existing.order_by("-pk"):
            self.cache[org.name.lower()] = org
        for name in names:
            if name and name.lower() not in self.cache:
                org = Organization(
                    name=name[:200], owner=self._owner(), import_batch=self.ctx.batch
                )
                if not self.ctx.dry_run:
                    org.save()
                self.cache[name.lower()] = org

    def _owner(self) -> Any:
        return self.ctx.actor if getattr(self.ctx.actor, "pk", None) else None

    def get(self, name: str) -> Organization | None:
        return self.cache.get(name.lower()) if name else None

    def forget_unsaved(self) -> None:
        self.cache = {}


class PeopleHandler(Handler):
    """Creates, updates or skips organizations or contacts, a chunk at a time."""

    model: Any = None
    noun = ""
    keys: tuple[str, ...] = ()

    def __init__(self, ctx: RunContext) -> None:
        super().__init__(ctx)
        self.owner = OwnerResolver(value_map=ctx.value_map("owner"))

    def clean(self, row: RowIn) -> dict[str, Any]:
        raise NotImplementedError

    def existing(self, values: list[dict[str, Any]]) -> dict[str, dict[Any, int]]:
        raise NotImplementedError

    def key_values(self, v: dict[str, Any]) -> list[tuple[str, Any]]:
        raise NotImplementedError

    def create(self, items: list[tuple[RowIn, dict[str, Any]]]) -> None:
        raise NotImplementedError

    def update(self, obj: Any, v: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def _owner(self, raw: dict[str, Any]) -> Any:
        if "owner" not in raw:
            return self.ctx.actor if getattr(self.ctx.actor, "pk", None) else None
        try:
            return self.owner.resolve(cell_text(raw["owner"]))
        except ValueProblem as exc:
            raise RowError("Owner", str(exc)) from exc

    def _targets(
        self, ready: list[tuple[RowIn, dict[str, Any]]], existing: dict[str, dict[Any, int]]
    ) -> dict[Any, Any]:
        """For update and upsert: the visible records the rows' match key points at."""
        keys = {self._match_key(r, v) for r, v in ready} - {None, ""}
        if self.ctx.match_on == "id":
            found = {k: int(k) for k in keys if str(k).isdigit()}
        else:
            found = existing.get(self.ctx.match_on, {})
        qs = self.model.objects.all()
        if self.ctx.actor is not None:
            qs = qs.visible_to(self.ctx.actor)
        objs = qs.in_bulk({found[k] for k in keys if k in found})
        return {k: objs[found[k]] for k in keys if k in found and found[k] in objs}

    def _match_key(self, row: RowIn, v: dict[str, Any]) -> Any:
        match = self.ctx.match_on
        if match == "id":
            return cell_text(row.values.get("id", ""))
        if match == "email":
            return (v.get("emails") or [None])[0]
        if match == "phone" and "phones" in v:
            return next((e164 for _, e164, _ in v["phones"] if e164), None)
        if match == "name":
            return v.get("name", "").lower() or None
        return v.get(match)

    def process(self, rows: list[RowIn]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        ready = []
        for row in rows:
            try:
                ready.append((row, self.clean(row)))
            except RowError as exc:
                outcomes.append(Outcome(row.number, RowOutcome.FAILED, error=exc.message))
        existing = self.existing([v for _, v in ready])
        mode = self.ctx.mode
        targets = self._targets(ready, existing) if mode != ImportMode.CREATE else {}
        creates, updated = [], []
        for row, v in ready:
            target = None
            if mode != ImportMode.CREATE:
                match, key = self.ctx.match_on, self._match_key(row, v)
                target = targets.get(key) if key else None
                earlier = self.first_row("target", target.pk if target else None)
                if earlier:
                    outcomes.append(
                        Outcome(
                            row.number,
                            RowOutcome.SKIPPED,
                            error=f"Row: updates the same {self.noun} as row {earlier}",
                        )
                    )
                    continue
                if target is None and mode == ImportMode.UPDATE:
                    outcomes.append(
                        Outcome(
                            row.number,
                            RowOutcome.SKIPPED,
                            error=f"Row: no existing {self.noun} with {match} {key or '(empty)'}",
                        )
                    )
                    continue
            problem = self._duplicate(v, existing, target)
            if problem:
                outcome = RowOutcome.FAILED if target else RowOutcome.SKIPPED
                outcomes.append(Outcome(row.number, outcome, error=problem))
                continue
            for kind, value in self.key_values(v):
                self.remember(kind, value, row.number)
            if target is not None:
                self.remember("target", target.pk, row.number)
                previous = self.update(target, v)
                updated.append(
                    Outcome(
                        row.number,
                        RowOutcome.UPDATED,
                        object_id=target.pk,
                        previous=previous,
                        values=v if self.ctx.preview else None,
                    )
                )
            else:
                creates.append((row, v))
        self.create(creates)
        outcomes += updated
        outcomes += [
            Outcome(row.number, RowOutcome.CREATED, values=v if self.ctx.preview else None)
            for row, v in creates
        ]
        return outcomes

    def _duplicate(self, v: dict[str, Any], existing: dict, target: Any) -> str:
        for kind, value in self.key_values(v):
            earlier = self.first_row(kind, value)
            if earlier:
                return f"Duplicate: same {kind} as row {earlier} ({value})"
            pk = existing.get(kind, {}).get(value)
            if pk and not (target is not None and pk == target.pk):
                return f"Duplicate: {self.noun} #{pk} has the same {kind} ({value})"
        return ""

    def _save_changes(self, obj: Any, v: dict[str, Any], names: list[str]) -> dict[str, Any]:
        previous = {}
        for name in names:
            if name in v and getattr(obj, name) != v[name]:
                previous[name] = getattr(obj, name)
                setattr(obj, name, v[name])
        if previous and not self.ctx.dry_run:
            obj.save(update_fields=[*previous.keys(), "updated_at"])
        return {
            f"{k}_id" if k in ("owner", "organization") else k: getattr(p, "pk", p)
            for k, p in previous.items()
        }
