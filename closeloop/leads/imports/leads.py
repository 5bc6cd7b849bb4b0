"""Importing leads in bulk: the rules of `clean_lead_input` and the duplicate checks of
`dedupe.find_exact`, applied to 5,000 rows at a time with one query per key per chunk.

Exact duplicates (same email, same phone in E.164, on a lead or a contact, or an earlier row of
the file) are skipped in create mode and are the records updated in update/upsert mode. Likely
duplicates (similar name and company) are flagged afterwards when the import created at most
LIKELY_CHECK_LIMIT new leads; a larger import queues the full duplicate scan instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db.models import F

from closeloop.people.models import Organization

from ..choices import FREE_MAIL_DOMAINS, ImportMode, LeadStatus, RowOutcome
from ..models import Lead
from ..services import TEXT_LIMITS, campaign_for_utm, source_create
from .engine import Handler, Outcome, RowError, RowIn
from .lead_duplicates import ExistingIndex, WrittenKeys, flag_likely_duplicates
from .lead_rows import clean_lead_row
from .resolvers import (
    CampaignResolver,
    LeadStatusResolver,
    OwnerResolver,
    SourceResolver,
)
from .values import ValueProblem, cell_text, parse_bool

TEXT_FIELDS = [name for name in TEXT_LIMITS if name not in ("phone", "external_id")]
# columns an import sets on a new lead; the rest take their defaults
VARYING = [
    *TEXT_FIELDS,
    "email",
    "phone",
    "phone_e164",
    "external_id",
    "notes",
    "status",
    "marketing_consent",
    "consent_at",
    "owner_id",
    "source_id",
    "campaign_id",
    "organization_id",
]
DEFAULTS = {"status": LeadStatus.NEW, "marketing_consent": False}
NULLABLE = {"owner_id", "source_id", "campaign_id", "organization_id", "consent_at"}
CREATED = Outcome(0, RowOutcome.CREATED)
CHOICES = {
    "status": "status",
    "owner": "owner_id",
    "source": "source_id",
    "campaign": "campaign_id",
}
# create mode checks and writes a chunk's rows in parts of this many (see _create_new)
PART = 2_000
UPDATABLE = [c for c in VARYING if c not in ("phone_e164", "organization_id", "consent_at")]


class LeadHandler(Handler):
    """Creates, updates or skips leads, a chunk at a time."""

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        vm = ctx.value_map
        self.status = LeadStatusResolver(value_map=vm("status"))
        self.owner = OwnerResolver(value_map=vm("owner"))
        self.source = SourceResolver(value_map=vm("source"))
        self.campaign = CampaignResolver(value_map=vm("campaign"))
        self.memo: dict[str, dict[str, Any]] = {name: {} for name in CHOICES}
        self.index = ExistingIndex()
        self.written = {"email": WrittenKeys(), "phone": WrittenKeys()}
        mapped = set(ctx.batch.mapping.values())
        self.columns = self._columns(mapped)
        # only the choice columns this file maps are looked at, row after row
        self.choice_columns = [(name, CHOICES[name]) for name in CHOICES if name in mapped]
        self.consent_mapped = "marketing_consent" in mapped
        self.utm_mapped = "utm_campaign" in mapped
        self.domains: dict[str, int | None] = {}
        self.utm_campaigns: dict[str, int | None] = {}

    @staticmethod
    def _columns(mapped: set[str]) -> list[str]:
        """The columns new leads get values for from this file; the rest keep their defaults."""
        produced = mapped & set(VARYING)
        if "full_name" in mapped:
            produced |= {"first_name", "last_name"}
        if "phone" in mapped:
            produced.add("phone_e164")
        if mapped & {"email", "company_domain"}:
            produced |= {"company_domain", "organization_id"}
        produced |= {column for name, column in CHOICES.items() if name in mapped}
        if "marketing_consent" in mapped:
            produced |= {"consent_at", "consent_method"}
        if "utm_campaign" in mapped:
            produced.add("campaign_id")
        return [c for c in VARYING if c in produced]

    # Cleaning ---------------------------------------------------------------------------------
    @staticmethod
    def prepare(row: RowIn) -> None:
        """The checks that need no database, run ahead on the reading side."""
        try:
            row.prepared = clean_lead_row(row.values)
        except RowError as exc:
            row.problem = exc.message

    def clean(self, row: RowIn) -> dict[str, Any]:
        """The lead's values from a row, checked as clean_lead_input checks them."""
        if row.prepared is None:
            self.prepare(row)
        if row.problem:
            raise RowError.from_message(row.problem)
        out = row.prepared
        assert out is not None
        if self.choice_columns or self.consent_mapped:
            self._choices(row.values, out)
        return out

    def _choices(self, raw: dict[str, Any], out: dict[str, Any]) -> None:
        memos = self.memo
        for name, column in self.choice_columns:
            cell = raw.get(name)
            if cell is None:
                continue
            # cells come stripped from the reader; other types are read as a person sees them
            text = cell if cell.__class__ is str else cell_text(cell)
            memo = memos[name]
            value = memo.get(text, memo)
            if value is memo:
                value = memo[text] = self._choice(name, text)
            if value.__class__ is RowError:
                raise value
            out[column] = value
        if self.consent_mapped and "marketing_consent" in raw:
            try:
                out["marketing_consent"] = parse_bool(raw["marketing_consent"])
            except ValueProblem as exc:
                raise RowError("Marketing consent", str(exc)) from exc
            if out["marketing_consent"]:
                out["consent_at"] = self.ctx.now
                out.setdefault("consent_method", "Import")

    def _choice(self, name: str, text: str) -> Any:
        """The stored value for one distinct choice value, or the RowError it causes."""
        try:
            if name == "status":
                return self.status.resolve(text)
            if name == "source":
                return self._source(text)
            resolver = self.owner if name == "owner" else self.campaign
            return getattr(resolver.resolve(text), "pk", None)
        except ValueProblem as exc:
            return RowError(name.capitalize(), str(exc))

    def _source(self, name: str) -> int | None:
        found = self.source.resolve(name)
        if found is None or not isinstance(found, str):
            return found.pk if found is not None else None
        if self.ctx.dry_run:
            return None
        source = source_create(actor=self.ctx.actor, name=found)
        self.source.created[source.name.lower()] = source
        self.source.by_name[source.name.lower()] = source
        self.source.records[source.pk] = source
        return source.pk

    def rolled_back(self) -> None:
        super().rolled_back()
        self.source = SourceResolver(value_map=self.ctx.value_map("source"))
        self.domains, self.utm_campaigns = {}, {}
        self.memo = {name: {} for name in CHOICES}

    # Lookups ----------------------------------------------------------------------------------
    def _targets(self, values: list[dict[str, Any]], rows: list[RowIn]) -> dict[Any, Lead]:
        """For update and upsert: the visible leads the rows' match key points at."""
        match = self.ctx.match_on
        if match == "id":
            keys = {cell_text(r.values.get("id", "")) for r in rows}
            ids = [int(k) for k in keys if k.isdigit()]
            qs = Lead.objects.filter(pk__in=ids)
            attr = "pk"
        else:
            attr = {"email": "email", "phone": "phone_e164", "external_id": "external_id"}[match]
            keys = {str(v[attr]) for v in values if v.get(attr)}
            qs = Lead.objects.filter(**{f"{attr}__in": keys})
            if attr == "external_id":
                qs = qs.filter(external_id__gt="")  # lets the partial index serve the lookup
        if self.ctx.actor is not None:
            qs = qs.visible_to(self.ctx.actor)
        targets: dict[Any, Lead] = {}
        for lead in qs.order_by("pk"):
            targets.setdefault(str(lead.pk) if attr == "pk" else getattr(lead, attr), lead)
        return targets

    def _organizations(self, values: list[dict[str, Any]]) -> None:
        self._look_up(values)
        self._link(values)

    def _look_up(self, values: list[dict[str, Any]]) -> None:
        """Load the organizations and UTM campaigns the rows name that are not known yet."""
        wanted = {v["company_domain"] for v in values if v.get("company_domain")}
        missing = wanted - self.domains.keys()
        if missing:
            for domain in missing:
                self.domains[domain] = None
            orgs = Organization.objects.filter(domain__in=missing).order_by("-pk")
            for domain, pk in orgs.values_list("domain", "pk"):
                self.domains[domain] = pk  # lowest pk wins, as organization_for_domain
        if not self.utm_mapped:
            return
        for v in values:
            utm = v.get("utm_campaign")
            if utm and not v.get("campaign_id") and utm not in self.utm_campaigns:
                campaign = campaign_for_utm(utm)
                self.utm_campaigns[utm] = campaign.pk if campaign else None

    def _link(self, values: list[dict[str, Any]]) -> None:
        """Set the organization and UTM campaign of each row (all loaded by _look_up)."""
        domains = self.domains
        for v in values:
            domain = v.get("company_domain")
            if domain and domain not in FREE_MAIL_DOMAINS:
                v["organization_id"] = domains.get(domain)
        if not self.utm_mapped:
            return
        for v in values:
            utm = v.get("utm_campaign")
            if utm and not v.get("campaign_id"):
                v["campaign_id"] = self.utm_campaigns[utm]

    # The chunk --------------------------------------------------------------------------------
    def process(self, rows: list[RowIn]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        ready: list[tuple[RowIn, dict[str, Any]]] = []
        for row in rows:
            try:
                ready.append((row, self.clean(row)))
            except RowError as exc:
                outcomes.append(Outcome(row.number, RowOutcome.FAILED, error=exc.message))
        values = [v for _, v in ready]
        self._earlier_rows(values)
        existing = self.index.lookup(values)
        mode = self.ctx.mode
        if mode == ImportMode.CREATE:
            return self._create_new(ready, existing, outcomes)
        targets = self._targets(values, [r for r, _ in ready]) if mode != ImportMode.CREATE else {}
        creates: list[tuple[RowIn, dict[str, Any]]] = []
        updates: list[tuple[RowIn, dict[str, Any], Lead]] = []
        for row, v in ready:
            target = None
            if mode != ImportMode.CREATE:
                match_key = self._match_key(row, v)
                target = targets.get(match_key) if match_key else None
                earlier = self.first_row("target", target.pk if target else None)
                if earlier:
                    outcomes.append(self._skip(row, f"Row: updates the same lead as row {earlier}"))
                    continue
                if target is None and mode == ImportMode.UPDATE:
                    what = f"{self.ctx.match_on} {match_key}" if match_key else "no match value"
                    outcomes.append(self._skip(row, f"Row: no existing lead with {what}"))
                    continue
            problem = self._duplicate(v, existing, target)
            if problem:
                outcome = RowOutcome.FAILED if target else RowOutcome.SKIPPED
                outcomes.append(Outcome(row.number, outcome, error=problem))
                continue
            self.remember("email", v.get("email"), row.number)
            self.remember("phone", v.get("phone_e164"), row.number)
            if target is not None:
                self.remember("target", target.pk, row.number)
                updates.append((row, v, target))
            else:
                creates.append((row, v))
        outcomes += self._create(creates)
        outcomes += self._update(updates)
        return outcomes

    def _create_new(
        self, ready: list[tuple[RowIn, dict[str, Any]]], existing: dict, outcomes: list[Outcome]
    ) -> list[Outcome]:
        """Create mode: skip the duplicates, create the others.

        Every query comes first; then the rows are checked and written PART rows at a time, so
        on PostgreSQL the server inserts one part (COPY) while this process checks and builds
        the next, instead of the two taking turns.
        """
        self._look_up([v for _, v in ready])
        creates: list[tuple[RowIn, dict[str, Any]]] = []
        with self._writing() as write:
            for start in range(0, len(ready), PART):
                part = self._new_rows(ready[start : start + PART], existing, outcomes)
                self._link([v for _, v in part])
                write(self._insert_rows(part))
                creates += part
        return outcomes + self._created(creates)

    def _new_rows(
        self, ready: list[tuple[RowIn, dict[str, Any]]], existing: dict, outcomes: list[Outcome]
    ) -> list[tuple[RowIn, dict[str, Any]]]:
        """Create mode: the rows that are no duplicate; the others are skipped with the reason.

        `_duplicate` and `remember` made fast for the million-row case: the same checks in the
        same order (earlier row by email, existing record by email, then the same by phone).
        """
        seen_email = self.seen.setdefault("email", {})
        seen_phone = self.seen.setdefault("phone", {})
        new_email = self.pending.setdefault("email", {})
        new_phone = self.pending.setdefault("phone", {})
        old_email, old_phone = existing["email"], existing["phone"]
        skipped = RowOutcome.SKIPPED
        creates = []
        for row, v in ready:
            email = v.get("email")
            phone = v.get("phone_e164")
            problem = ""
            if email:
                earlier = seen_email.get(email) or new_email.get(email)
                if earlier:
                    problem = f"Duplicate: same email as row {earlier} ({email})"
                elif record := old_email.get(email):
                    problem = f"Duplicate: {record[0]} #{record[1]} has the same email ({email})"
            if phone and not problem:
                earlier = seen_phone.get(phone) or new_phone.get(phone)
                if earlier:
                    problem = f"Duplicate: same phone as row {earlier} ({phone})"
                elif record := old_phone.get(phone):
                    problem = f"Duplicate: {record[0]} #{record[1]} has the same phone ({phone})"
            if problem:
                outcomes.append(Outcome(row.number, skipped, error=problem))
                continue
            if email:
                new_email.setdefault(email, row.number)
            if phone:
                new_phone.setdefault(phone, row.number)
            creates.append((row, v))
        return creates

    # In-file duplicates across chunks. A dry run keeps every key (nothing is written to look
    # up); a real run keeps only a bitmap of the committed keys' hashes (16 MB, however big the
    # file) and confirms a hit against the leads the earlier chunks wrote.
    def committed(self) -> None:
        if self.ctx.dry_run:
            super().committed()
            return
        for kind in ("email", "phone"):
            self.written[kind].add(self.pending.pop(kind, {}))
        super().committed()

    def _earlier_rows(self, values: list[dict[str, Any]]) -> None:
        if self.ctx.dry_run:
            return
        for kind, attr in (("email", "email"), ("phone", "phone_e164")):
            maybe = self.written[kind].candidates(v.get(attr) for v in values)
            if maybe:
                found = Lead.objects.filter(**{f"{attr}__in": maybe}).values_list(attr, "pk")
                for key, pk in found.order_by("pk"):
                    self.index.add(kind, key, ("lead", pk))

    def _match_key(self, row: RowIn, v: dict[str, Any]) -> Any:
        if self.ctx.match_on == "id":
            return cell_text(row.values.get("id", ""))
        attr = {"email": "email", "phone": "phone_e164", "external_id": "external_id"}
        return v.get(attr[self.ctx.match_on])

    def _skip(self, row: RowIn, error: str, object_id: int | None = None) -> Outcome:
        return Outcome(row.number, RowOutcome.SKIPPED, object_id=object_id, error=error)

    def _duplicate(self, v: dict[str, Any], existing: dict, target: Lead | None) -> str:
        for kind, value in (("email", v.get("email")), ("phone", v.get("phone_e164"))):
            if not value:
                continue
            earlier = self.first_row(kind, value)
            if earlier:
                return f"Duplicate: same {kind} as row {earlier} ({value})"
            record = existing[kind].get(value)
            if target is not None and record and record[0] == "contact":
                continue  # a lead may share its email with a contact; only other leads clash
            if record and not (target is not None and record == ("lead", target.pk)):
                return f"Duplicate: {record[0]} #{record[1]} has the same {kind} ({value})"
        return ""

    def _create(self, creates: list[tuple[RowIn, dict[str, Any]]]) -> list[Outcome]:
        if not creates:
            return []
        self._organizations([v for _, v in creates])
        if not self.ctx.dry_run:
            self._inserter().insert(self._insert_rows(creates))
        return self._created(creates)

    def _created(self, creates: list[tuple[RowIn, dict[str, Any]]]) -> list[Outcome]:
        if not self.ctx.preview:
            # one shared entry per created row: only counted, never stored (undo finds created
            # leads through their import_batch), and a million objects fewer to build
            return [CREATED] * len(creates)
        return [Outcome(row.number, RowOutcome.CREATED, values=v) for row, v in creates]

    @contextmanager
    def _writing(self) -> Iterator[Callable[[list[list[Any]]], None]]:
        """The inserter's writing function; a dry run writes nothing."""
        if self.ctx.dry_run:
            yield lambda rows: None
            return
        with self._inserter().writing() as write:
            yield write

    def _insert_rows(self, creates: list[tuple[RowIn, dict[str, Any]]]) -> list[list[Any]]:
        """The new leads' values, in the inserter's columns."""
        if not creates or self.ctx.dry_run:
            return []
        columns = self.columns
        defaults = [DEFAULTS.get(c, None if c in NULLABLE else "") for c in columns]
        pairs = list(zip(columns, defaults, strict=True))
        rows = [[v.get(c, d) for c, d in pairs] for _, v in creates]
        if "consent_at" in columns:
            at, stamp = columns.index("consent_at"), self._inserter().prepare_datetime(self.ctx.now)
            for row in rows:
                if row[at] is not None:
                    row[at] = stamp
        return rows

    def _inserter(self) -> Any:
        if not hasattr(self, "_lead_inserter"):
            from .writes import RowInserter

            self._lead_inserter = RowInserter(
                Lead,
                varying=self.columns,
                constants={
                    "import_batch": self.ctx.batch,
                    "created_by": self.ctx.actor if getattr(self.ctx.actor, "pk", None) else None,
                    "created_at": self.ctx.now,
                    "updated_at": self.ctx.now,
                },
            )
        return self._lead_inserter

    def _update(self, updates: list[tuple[RowIn, dict[str, Any], Lead]]) -> list[Outcome]:
        outcomes = []
        changed_leads: list[Lead] = []
        fields: set[str] = set()
        for row, v, lead in updates:
            previous = {}
            for name in UPDATABLE:
                if name in v and getattr(lead, name) != v[name]:
                    previous[name] = getattr(lead, name)
                    setattr(lead, name, v[name])
            if "phone" in previous:
                previous["phone_e164"] = lead.phone_e164
                lead.phone_e164 = v["phone_e164"]
            if previous:
                changed_leads.append(lead)
                fields |= previous.keys()
            outcomes.append(
                Outcome(
                    row.number,
                    RowOutcome.UPDATED,
                    object_id=lead.pk,
                    previous=previous,
                    values=v if self.ctx.preview else None,
                )
            )
        if changed_leads and not self.ctx.dry_run:
            for lead in changed_leads:
                # the rows are not locked: the database adds one to what it has, so an edit
                # made meanwhile still finds its version stale
                lead.version = F("version") + 1  # type: ignore[assignment]
            Lead.objects.bulk_update(
                changed_leads, [*sorted(fields), "version", "updated_at"], batch_size=500
            )
        return outcomes

    # After the last chunk ---------------------------------------------------------------------
    def finish(self) -> dict[str, Any]:
        if self.ctx.dry_run:
            return {}
        return flag_likely_duplicates(self.ctx.batch)
