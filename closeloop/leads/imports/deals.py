"""Importing deals with their history, so analytics work on what came from the other CRM.

A new deal gets the StageChange rows the services would have written: entering its stage when
it was created and, for a closed deal, the status change when it was won or lost. Those dates
must be in order and not in the future. A lost deal whose reason is not on our list is lost
for “Other”, with the file's wording kept in the lost note. Updates change a deal's plain
fields only; stage and status are moved on the board, where the history is recorded.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from closeloop.core.money import base_currency
from closeloop.people.models import ContactEmail
from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.facts import deal_facts_refresh
from closeloop.pipeline.models import Deal, Pipeline, StageChange
from closeloop.pipeline.services.deals import MAX_VALUE

from ..choices import ImportMode, RowOutcome
from ..services import source_create
from .engine import Handler, Outcome, RowError, RowIn, RunContext
from .lead_rows import valid_email
from .people import OrganizationFinder
from .resolvers import (
    CampaignResolver,
    CurrencyResolver,
    DealStatusResolver,
    LostReasonResolver,
    OwnerResolver,
    PipelineResolver,
    SourceResolver,
    StageResolver,
)
from .values import AmbiguousDate, ValueProblem, cell_text, parse_datetime, parse_decimal

UPDATABLE = (
    "title",
    "owner",
    "value",
    "currency",
    "expected_close_date",
    "organization",
    "contact",
    "competitor",
    "external_id",
    "source",
    "campaign",
)
SOURCES = {
    "expected_close_date": ("expected_close_date", "close_date"),
    "organization": ("organization",),
    "contact": ("contact_email",),
}
DATE_LABELS = {
    "created_at": "Created",
    "won_at": "Won date",
    "lost_at": "Lost date",
    "close_date": "Close date",
    "expected_close_date": "Expected close date",
}


class DealHandler(Handler):
    """Creates deals with back-dated history, or updates their plain fields."""

    def __init__(self, ctx: RunContext) -> None:
        super().__init__(ctx)
        vm = ctx.value_map
        self.owner = OwnerResolver(value_map=vm("owner"))
        self.pipelines = PipelineResolver(value_map=vm("pipeline"))
        self.stages = StageResolver(value_map=vm("stage"))
        self.status = DealStatusResolver(value_map=vm("status"))
        self.reasons = LostReasonResolver(value_map=vm("lost_reason"))
        self.currency = CurrencyResolver(value_map=vm("currency"))
        self.sources = SourceResolver(value_map=vm("source"))
        self.campaigns = CampaignResolver(value_map=vm("campaign"))
        self.orgs = OrganizationFinder(ctx)
        self.default_pipeline = Pipeline.objects.filter(is_default=True).first()
        self.default_currency = base_currency()
        actor = ctx.actor if getattr(ctx.actor, "pk", None) else None
        self.default_owner = actor or self.owner.first_admin()

    def rolled_back(self) -> None:
        super().rolled_back()
        self.orgs.forget_unsaved()
        self.sources = SourceResolver(value_map=self.ctx.value_map("source"))

    def _attribution(self, raw: dict[str, Any], v: dict[str, Any]) -> None:
        """Source and campaign by name, value-mapped; an unknown source is added (not on a dry
        run), as the lead import does."""
        if raw.get("campaign"):
            text = cell_text(raw["campaign"])
            v["campaign"] = self._resolve("Campaign", self.campaigns.resolve, text)
        if raw.get("source"):
            found = self._resolve("Source", self.sources.resolve, cell_text(raw["source"]))
            if isinstance(found, str):
                if self.ctx.dry_run:
                    return
                found = source_create(actor=self.ctx.actor, name=found)
                self.sources.created[found.name.lower()] = found
                self.sources.by_name[found.name.lower()] = found
                self.sources.records[found.pk] = found
            v["source"] = found

    def _date(self, raw: dict[str, Any], name: str) -> dt.datetime | None:
        if name not in raw:
            return None
        try:
            value = parse_datetime(raw[name], order=self.ctx.date_order)
        except AmbiguousDate as exc:
            raise RowError(DATE_LABELS[name], str(exc)) from exc
        except ValueProblem as exc:
            raise RowError(DATE_LABELS[name], str(exc)) from exc
        if value > self.ctx.now + dt.timedelta(days=1) and name in (
            "created_at",
            "won_at",
            "lost_at",
        ):
            raise RowError(DATE_LABELS[name], f"{value:%Y-%m-%d} is in the future")
        return value

    def _resolve(self, label: str, resolve: Any, *args: Any) -> Any:
        try:
            return resolve(*args)
        except ValueProblem as exc:
            raise RowError(label, str(exc)) from exc

    def clean(self, row: RowIn) -> dict[str, Any]:
        raw = row.values
        v: dict[str, Any] = {}
        title = cell_text(raw.get("title", ""))
        if not title:
            raise RowError("Title", "a deal needs a title")
        if len(title) > 200:
            raise RowError("Title", "can be at most 200 characters long")
        v["title"] = title
        pipeline = self.default_pipeline
        if "pipeline" in raw:
            pipeline = self._resolve("Pipeline", self.pipelines.resolve, cell_text(raw["pipeline"]))
        if pipeline is None:
            raise RowError("Pipeline", "there is no pipeline to put the deal in; create one first")
        stage, status = None, ""
        if "stage" in raw:
            stage, status = self._resolve(
                "Stage", self.stages.resolve, cell_text(raw["stage"]), pipeline
            )
        if "status" in raw:
            explicit = self._resolve("Status", self.status.resolve, cell_text(raw["status"]))
            if status and explicit != status:
                raise RowError("Status", f"is {explicit}, but the stage says the deal was {status}")
            status = explicit
        status = status or DealStatus.OPEN
        stage = stage or (
            self.stages.last(pipeline) if status == DealStatus.WON else self.stages.first(pipeline)
        )
        if stage is None:
            raise RowError("Stage", f"the pipeline {pipeline} has no stages")
        v.update(pipeline=pipeline, stage=stage, status=status)
        owner = (
            self._resolve("Owner", self.owner.resolve, cell_text(raw["owner"]))
            if "owner" in raw
            else self.default_owner
        )
        if owner is None:
            raise RowError("Owner", "a deal needs an owner: map an owner column")
        v["owner"] = owner
        value = Decimal("0")
        if "value" in raw:
            value = self._resolve("Value", parse_decimal, raw["value"]).quantize(Decimal("0.01"))
            if value < 0 or value > MAX_VALUE:
                raise RowError("Value", f"{value} is negative or too large")
        v["value"] = value
        v["currency"] = (
            self._resolve("Currency", self.currency.resolve, cell_text(raw["currency"]))
            if "currency" in raw
            else self.default_currency
        )
        self._dates(raw, v)
        self._lost(raw, v)
        self._attribution(raw, v)
        for name, limit in (("competitor", 200), ("external_id", 100)):
            if name in raw:
                text = cell_text(raw[name])
                if len(text) > limit:
                    raise RowError(
                        name.replace("_", " ").capitalize(),
                        f"can be at most {limit} characters long",
                    )
                v[name] = text
        if raw.get("organization"):
            v["organization_name"] = cell_text(raw["organization"])[:200]
        if raw.get("contact_email"):
            email = cell_text(raw["contact_email"]).lower()
            if not valid_email(email):
                raise RowError("Contact email", f"“{email}” is not a valid email address")
            v["contact_email"] = email
        return v

    def _dates(self, raw: dict[str, Any], v: dict[str, Any]) -> None:
        created = self._date(raw, "created_at") or self.ctx.now
        close = self._date(raw, "close_date")
        expected = self._date(raw, "expected_close_date")
        won, lost = self._date(raw, "won_at"), self._date(raw, "lost_at")
        status = v["status"]
        if status == DealStatus.OPEN and (won or lost):
            raise RowError("Status", "the deal is open but has a won or lost date")
        if status == DealStatus.WON:
            won = won or close
            if won is None:
                raise RowError(
                    "Won date", "a won deal needs the date it was won (map a won or close date)"
                )
        if status == DealStatus.LOST:
            lost = lost or close
            if lost is None:
                raise RowError(
                    "Lost date", "a lost deal needs the date it was lost (map a lost or close date)"
                )
        closed = won or lost
        if closed is not None and closed < created:
            raise RowError(
                "Won date" if won else "Lost date",
                f"{closed:%Y-%m-%d} is before the deal was created ({created:%Y-%m-%d})",
            )
        if expected is None and close is not None and status == DealStatus.OPEN:
            expected = close
        v.update(
            created_at=created,
            won_at=won,
            lost_at=lost,
            expected_close_date=expected.date() if expected else None,
        )

    def _lost(self, raw: dict[str, Any], v: dict[str, Any]) -> None:
        note = cell_text(raw.get("lost_note", ""))
        v["lost_note"], v["lost_reason"] = note, None
        if v["status"] != DealStatus.LOST:
            return
        text = cell_text(raw.get("lost_reason", ""))
        reason = None
        if text:
            try:
                reason = self.reasons.resolve(text)
            except ValueProblem:
                reason = None
        if reason is None:
            reason = self.reasons.fallback()
            if reason is None:
                raise RowError("Lost reason", "there are no lost reasons to choose from")
            wording = (
                f"Reason in the imported file: {text}" if text else "No reason in the imported file"
            )
            v["lost_note"] = f"{wording}\n{note}".strip()
        v["lost_reason"] = reason

    def _links(self, items: list[dict[str, Any]]) -> None:
        self.orgs.load({v["organization_name"] for v in items if v.get("organization_name")})
        emails = {v["contact_email"] for v in items if v.get("contact_email")}
        contacts = {}
        if emails:
            qs = ContactEmail.objects.filter(email__in=emails, contact__deleted_at__isnull=True)
            contacts = {
                e.email: e.contact for e in qs.select_related("contact").order_by("-contact_id")
            }
        for v in items:
            v["organization"] = self.orgs.get(v.get("organization_name", ""))
            v["contact"] = contacts.get(v.get("contact_email", ""))
            if v["organization"] is None and v["contact"] is not None:
                v["organization"] = v["contact"].organization

    def process(self, rows: list[RowIn]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        ready = []
        for row in rows:
            try:
                ready.append((row, self.clean(row)))
            except RowError as exc:
                outcomes.append(Outcome(row.number, RowOutcome.FAILED, error=exc.message))
        ext_ids = {v["external_id"] for _, v in ready if v.get("external_id")}
        by_ext = (
            dict(
                Deal.objects.filter(external_id__in=ext_ids)
                .order_by("-pk")
                .values_list("external_id", "pk")
            )
            if ext_ids
            else {}
        )
        targets = self._targets(ready, by_ext)
        creates, updates = [], []
        for row, v in ready:
            key = (
                cell_text(row.values.get("id", ""))
                if self.ctx.match_on == "id"
                else v.get("external_id")
            )
            target = targets.get(key) if self.ctx.mode != ImportMode.CREATE and key else None
            earlier = self.first_row("target", target.pk if target else None) or self.first_row(
                "external_id", v.get("external_id")
            )
            if earlier:
                outcomes.append(
                    Outcome(
                        row.number,
                        RowOutcome.SKIPPED,
                        error=f"Duplicate: same deal as row {earlier}",
                    )
                )
                continue
            if target is None and self.ctx.mode == ImportMode.UPDATE:
                outcomes.append(
                    Outcome(
                        row.number,
                        RowOutcome.SKIPPED,
                        error=f"Row: no existing deal with {self.ctx.match_on} {key or '(empty)'}",
                    )
                )
                continue
            ext = v.get("external_id")
            if target is None and ext in by_ext:
                outcomes.append(
                    Outcome(
                        row.number,
                        RowOutcome.SKIPPED,
                        object_id=by_ext[ext],
                        error=f"Duplicate: deal #{by_ext[ext]} has the same ID ({ext})",
                    )
                )
                continue
            self.remember("external_id", v.get("external_id"), row.number)
            if target is not None:
                self.remember("target", target.pk, row.number)
                updates.append((row, v, target))
            else:
                creates.append((row, v))
        self._links([v for _, v in creates] + [v for _, v, _ in updates])
        self._create(creates)
        for row, v, deal in updates:
            previous = self._update(deal, v, row.values)
            outcomes.append(
                Outcome(row.number, RowOutcome.UPDATED, object_id=deal.pk, previous=previous)
            )
        outcomes += [
            Outcome(row.number, RowOutcome.CREATED, values=v if self.ctx.preview else None)
            for row, v in creates
        ]
        return outcomes

    def _targets(
        self, ready: list[tuple[RowIn, dict[str, Any]]], by_ext: dict[str, int]
    ) -> dict[str, Deal]:
        if self.ctx.mode == ImportMode.CREATE:
            return {}
        if self.ctx.match_on == "id":
            found = {
                k: int(k) for r, _ in ready if (k := cell_text(r.values.get("id", ""))).isdigit()
            }
        else:
            found = by_ext
        qs = Deal.objects.all()
        if self.ctx.actor is not None:
            qs = qs.visible_to(self.ctx.actor)
        objs = qs.in_bulk(set(found.values()))
        return {k: objs[pk] for k, pk in found.items() if pk in objs}

    def _create(self, items: list[tuple[RowIn, dict[str, Any]]]) -> None:
        if self.ctx.dry_run or not items:
            return
        fields = [f.name for f in Deal._meta.concrete_fields if not f.primary_key]
        deals = Deal.objects.bulk_create(
            [
                Deal(**{k: x for k, x in v.items() if k in fields}, import_batch=self.ctx.batch)
                for _, v in items
            ]
        )
        history = []
        for deal in deals:
            history.append(
                StageChange(
                    deal=deal,
                    from_stage=None,
                    to_stage=deal.stage,
                    from_status="",
                    to_status=DealStatus.OPEN,
                    actor=deal.owner,
                    changed_at=deal.created_at,
                )
            )
            closed = deal.won_at or deal.lost_at
            if closed is not None:
                history.append(
                    StageChange(
                        deal=deal,
                        from_stage=deal.stage,
                        to_stage=deal.stage,
                        from_status=DealStatus.OPEN,
                        to_status=deal.status,
                        actor=deal.owner,
                        changed_at=closed,
                    )
                )
        StageChange.objects.bulk_create(history)
        deal_facts_refresh(deal_ids=[d.pk for d in deals])

    def _update(self, deal: Deal, v: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
        previous = {}
        for name in UPDATABLE:
            if not any(column in raw for column in SOURCES.get(name, (name,))):
                continue  # only what the file has a value for changes
            if v.get(name) is not None and getattr(deal, name) != v[name]:
                previous[name] = getattr(deal, name)
                setattr(deal, name, v[name])
        if previous and not self.ctx.dry_run:
            deal.version += 1
            deal.save(update_fields=[*previous.keys(), "version", "updated_at"])
            deal_facts_refresh(deal_ids=[deal.pk])
        return {
            f"{k}_id" if k in ("owner", "organization", "contact", "source", "campaign") else k: (
                getattr(p, "pk", p)
            )
            for k, p in previous.items()
        }
