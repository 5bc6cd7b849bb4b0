"""Turning another CRM's words into ours: statuses, stages, sources, owners, lost reasons.

Each resolver matches a value by name (case-insensitive) or through the user's value mapping
({value: option}); a value it cannot place is a row error naming it, never a silent blank.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from closeloop.accounts.models import User
from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.models import LostReason, Pipeline, Stage

from ..choices import LeadStatus
from ..models import Campaign, Source
from .values import ValueProblem, parse_currency

EMPTY = "__empty__"
NEW = "__new__"
LEAD_STATUS_WORDS = {
    LeadStatus.NEW: {"new", "open", "open not contacted", "not contacted", "unassigned", "lead"},
    LeadStatus.CONTACTED: {
        "contacted", "attempted to contact", "connected", "working contacted", "working",
        "in progress", "attempted", "contact in future",
    },
    LeadStatus.QUALIFYING: {"qualifying", "qualified", "open deal", "sales qualified", "sql"},
}  # fmt: skip
DEAL_STATUS_WORDS = {
    DealStatus.OPEN: {"open", "active", "in progress", "pending"},
    DealStatus.WON: {"won", "closed won", "closedwon", "win", "closed"},
    DealStatus.LOST: {"lost", "closed lost", "closedlost", "lose", "dead"},
}


def key(value: Any) -> str:
    """How a value is compared: trimmed, lower-case, inner spaces and dashes collapsed."""
    return " ".join(str(value).replace("_", " ").replace("-", " ").lower().split())


def _words(table: Mapping[Any, set[str]], value: str) -> str | None:
    wanted = key(value)
    for choice, words in table.items():
        if wanted == choice or wanted in words:
            return str(choice)
    return None


class Resolver:
    """Maps one column's values to our records or choices."""

    label = ""

    def __init__(self, *, value_map: dict[str, str] | None = None) -> None:
        self.value_map = {key(k): v for k, v in (value_map or {}).items()}

    def options(self) -> list[tuple[str, str]]:
        return []

    def auto(self, value: str) -> str:
        """The option a value matches by itself, '' when none."""
        return ""

    def choice(self, value: str) -> str:
        """The option chosen for a value: the user's mapping first, then the automatic match."""
        return self.value_map.get(key(value)) or self.auto(value)

    def unknown(self, value: str) -> ValueProblem:
        return ValueProblem(f"“{value}” is not known here; map it to one of ours")


class LeadStatusResolver(Resolver):
    def options(self) -> list[tuple[str, str]]:
        return [(str(v), str(label)) for v, label in LeadStatus.choices]

    def auto(self, value: str) -> str:
        return _words(LEAD_STATUS_WORDS, value) or ""

    def resolve(self, value: str) -> str:
        found = self.choice(value)
        if found not in LeadStatus.values:
            raise ValueProblem(f"“{value}” is not a lead status (new, contacted, qualifying)")
        return found


class OwnerResolver(Resolver):
    """Users by email, full name or display name; deactivated users cannot own records."""

    def __init__(self, *, value_map: dict[str, str] | None = None) -> None:
        super().__init__(value_map=value_map)
        self.users = {u.pk: u for u in User.objects.all()}
        self.by_name: dict[str, User] = {}
        for user in self.users.values():
            for name in (user.email, user.full_name, user.display_name):
                if name:
                    self.by_name.setdefault(key(name), user)

    def options(self) -> list[tuple[str, str]]:
        return [(str(u.pk), f"{u} <{u.email}>") for u in self.users.values() if u.is_active]

    def first_admin(self) -> User | None:
        """Who owns records when neither the file nor the person importing names anyone."""
        admins = [u for u in self.users.values() if u.is_active and u.role == "admin"]
        return min(admins, key=lambda u: u.pk) if admins else None

    def auto(self, value: str) -> str:
        user = self.by_name.get(key(value))
        return str(user.pk) if user else ""

    def resolve(self, value: str) -> User | None:
        found = self.choice(value)
        if found == EMPTY:
            return None
        user = self.users.get(int(found)) if found.isdigit() else None
        if user is None:
            raise ValueProblem(f"no user “{value}” (owners are matched by email or name)")
        if not user.is_active:
            raise ValueProblem(f"{user} is deactivated and cannot own records")
        return user


class NamedResolver(Resolver):
    """Records of one model matched by name; unknown names are refused or created."""

    model: Any = None
    create_unknown = False

    def __init__(self, *, value_map: dict[str, str] | None = None) -> None:
        super().__init__(value_map=value_map)
        self.records = {r.pk: r for r in self.model.objects.all()}
        self.by_name = {key(r.name): r for r in self.records.values()}
        self.created: dict[str, Any] = {}

    def options(self) -> list[tuple[str, str]]:
        extra = [(NEW, "(add it as a new one)")] if self.create_unknown else []
        return extra + [(str(pk), r.name) for pk, r in self.records.items()]

    def auto(self, value: str) -> str:
        record = self.by_name.get(key(value))
        if record is not None:
            return str(record.pk)
        return NEW if self.create_unknown else ""

    def resolve(self, value: str) -> Any:
        found = self.choice(value)
        if found == EMPTY:
            return None
        if found == NEW and self.create_unknown:
            return self.created.get(key(value)) or value.strip()  # created by the caller
        record = self.records.get(int(found)) if found.isdigit() else None
        if record is None:
            raise self.unknown(value)
        return record


class SourceResolver(NamedResolver):
    model = Source
    create_unknown = True


class CampaignResolver(NamedResolver):
    model = Campaign


class PipelineResolver(NamedResolver):
    model = Pipeline


class LostReasonResolver(NamedResolver):
    """Unknown reasons become “Other”, with the file's wording kept in the lost note."""

    model = LostReason

    def fallback(self) -> LostReason | None:
        other = self.by_name.get("other")
        if other is not None:
            return other
        active = [r for r in self.records.values() if r.is_active]
        return active[-1] if active else None


class StageResolver(Resolver):
    """A stage of the deal's pipeline, or a closing word (Closed Won) that sets the status."""

    def __init__(self, *, value_map: dict[str, str] | None = None) -> None:
        super().__init__(value_map=value_map)
        self.stages = {s.pk: s for s in Stage.objects.select_related("pipeline")}
        self.by_pipeline: dict[int, list[Stage]] = {}
        for stage in sorted(self.stages.values(), key=lambda s: (s.position, s.pk)):
            self.by_pipeline.setdefault(stage.pipeline_id, []).append(stage)

    def options(self) -> list[tuple[str, str]]:
        closing = [(DealStatus.WON.value, "(won)"), (DealStatus.LOST.value, "(lost)")]
        return closing + [(str(s.pk), f"{s.pipeline.name}: {s.name}") for s in self.stages.values()]

    def auto(self, value: str) -> str:
        for stage in self.stages.values():
            if key(stage.name) == key(value):
                return str(stage.pk)
        status = _words(DEAL_STATUS_WORDS, value)
        return status if status in (DealStatus.WON, DealStatus.LOST) else ""

    def resolve(self, value: str, pipeline: Pipeline) -> tuple[Stage | None, str]:
        """(stage or None, status implied or '') for a stage value in `pipeline`."""
        found = self.value_map.get(key(value)) or ""
        if not found:
            for candidate in self.by_pipeline.get(pipeline.pk, []):
                if key(candidate.name) == key(value):
                    return candidate, ""
            found = self.auto(value)
        if found in (DealStatus.WON, DealStatus.LOST):
            return None, found
        stage = self.stages.get(int(found)) if found.isdigit() else None
        if stage is None:
            raise ValueProblem(f"“{value}” is not a stage of {pipeline.name}; map it to one")
        if stage.pipeline_id != pipeline.pk:
            raise ValueProblem(
                f"“{stage.name}” is a stage of {stage.pipeline.name}, not {pipeline}"
            )
        return stage, ""

    def first(self, pipeline: Pipeline) -> Stage | None:
        stages = self.by_pipeline.get(pipeline.pk, [])
        return stages[0] if stages else None

    def last(self, pipeline: Pipeline) -> Stage | None:
        stages = self.by_pipeline.get(pipeline.pk, [])
        return stages[-1] if stages else None


class DealStatusResolver(Resolver):
    def options(self) -> list[tuple[str, str]]:
        return [(str(v), str(label)) for v, label in DealStatus.choices]

    def auto(self, value: str) -> str:
        return _words(DEAL_STATUS_WORDS, value) or ""

    def resolve(self, value: str) -> str:
        found = self.choice(value)
        if found not in DealStatus.values:
            raise ValueProblem(f"“{value}” is not a deal status (open, won, lost)")
        return found


class CurrencyResolver(Resolver):
    def auto(self, value: str) -> str:
        try:
            return parse_currency(value)
        except ValueProblem:
            return ""

    def resolve(self, value: str) -> str:
        return parse_currency(self.value_map.get(key(value)) or value)


RESOLVERS: dict[str, type[Resolver]] = {
    "owner": OwnerResolver,
    "source": SourceResolver,
    "campaign": CampaignResolver,
    "pipeline": PipelineResolver,
    "stage": StageResolver,
    "lost_reason": LostReasonResolver,
    "currency": CurrencyResolver,
}


def resolver_for(kind: str, field: str, value_map: dict[str, str] | None = None) -> Resolver:
    """The resolver for a choice field of an import kind."""
    if field == "status":
        cls: type[Resolver] = LeadStatusResolver if kind == "leads" else DealStatusResolver
    else:
        cls = RESOLVERS[field]
    return cls(value_map=value_map)
