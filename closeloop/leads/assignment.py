"""Who gets a new unowned lead: assignment rules, round-robin, caps, and recorded reassignment.

The first active rule (by position) whose conditions all match a lead assigns it: to the rule's
user, or round-robin among the active reps of its team, skipping anyone already holding
`cap_per_rep` open leads. The rule row is locked while it picks, so two leads arriving at once
never go to the same rep out of turn.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Max
from django.urls import reverse
from django.utils import timezone

from closeloop.accounts.choices import Role
from closeloop.accounts.models import Team, User
from closeloop.activities.choices import ActivityKind
from closeloop.activities.models import Activity
from closeloop.activities.services import notification_create
from closeloop.core.exceptions import DomainError

from .choices import OPEN_LEAD_STATUSES
from .models import AssignmentRule, Campaign, Lead, Source


def rule_matches(rule: AssignmentRule, lead: Lead) -> bool:
    """Every condition the rule sets (source, campaign, country) holds for the lead."""
    if rule.source_id and rule.source_id != lead.source_id:
        return False
    if rule.campaign_id and rule.campaign_id != lead.campaign_id:
        return False
    return not (rule.country and rule.country.upper() != (lead.country or "").upper())


@dataclass
class _Pool:
    """The people rules may hand leads to, and how many open leads each already holds."""

    members: dict[int, list[User]] = field(default_factory=dict)
    users: dict[int, User] = field(default_factory=dict)
    open_counts: dict[int, int] = field(default_factory=lambda: defaultdict(int))

    def candidates(self, rule: AssignmentRule) -> list[User]:
        if rule.user_id:
            user = self.users.get(rule.user_id)
            return [user] if user is not None else []
        return self.members.get(rule.team_id or 0, [])

    def at_cap(self, rule: AssignmentRule, user: User) -> bool:
        return rule.cap_per_rep is not None and self.open_counts[user.pk] >= rule.cap_per_rep


def _load_pool(rules: list[AssignmentRule]) -> _Pool:
    """Two queries whatever the number of rules: the people, then their open-lead counts."""
    pool = _Pool()
    team_ids = {r.team_id for r in rules if r.team_id and not r.user_id}
    user_ids = {r.user_id for r in rules if r.user_id}
    memberships = User.teams.through.objects.filter(
        team_id__in=team_ids, user__is_active=True
    ).select_related("user")
    by_team: dict[int, list[User]] = defaultdict(list)
    for membership in memberships:
        by_team[membership.team_id].append(membership.user)
        pool.users[membership.user_id] = membership.user
    for team_id, users in by_team.items():
        reps = [u for u in users if u.role == Role.REP]
        # a team of reps shares its leads; a team without reps falls back on all its members
        pool.members[team_id] = sorted(reps or users, key=lambda u: u.pk)
    for user in User.objects.filter(pk__in=user_ids - set(pool.users), is_active=True):
        pool.users[user.pk] = user
    counts = (
        Lead.objects.filter(owner_id__in=list(pool.users), status__in=OPEN_LEAD_STATUSES)
        .order_by()
        .values_list("owner_id")
        .annotate(n=Count("pk"))
    )
    for owner_id, n in counts:
        pool.open_counts[owner_id] = n
    return pool


def _next_owner(rule: AssignmentRule, pool: _Pool) -> User | None:
    """The rule's user, or the team member after the last one served, skipping those at cap."""
    candidates = pool.candidates(rule)
    if not candidates:
        return None
    if rule.user_id is None:
        # start after last_assigned in a stable order (by pk), wrapping around
        after = [u for u in candidates if rule.last_assigned_id and u.pk > rule.last_assigned_id]
        before = [u for u in candidates if u not in after]
        candidates = after + before
    for user in candidates:
        if not pool.at_cap(rule, user):
            return user
    return None


def _managers_to_warn(rule: AssignmentRule) -> list[User]:
    """Who hears that a rule could not assign: the rule's team managers, or else the admins."""
    team_id = rule.team_id
    if team_id is None and rule.user_id:
        team = Team.objects.filter(members=rule.user_id).order_by("pk").first()
        team_id = team.pk if team else None
    managers = []
    if team_id is not None:
        managers = list(User.objects.filter(teams=team_id, role=Role.MANAGER, is_active=True))
    return managers or list(User.objects.filter(role=Role.ADMIN, is_active=True))


@transaction.atomic
def leads_assign_auto_bulk(lead_ids: Iterable[int]) -> int:
    """Assign every unowned lead among `lead_ids` by the rules, in id order; returns how many.

    Rules are locked for the whole run, so concurrent runs (a web form and an import) take turns.
    """
    ids = list(lead_ids)
    if not ids:
        return 0
    rules = list(
        AssignmentRule.objects.select_for_update(of=("self",))
        .filter(is_active=True)
        .select_related("last_assigned")
        .order_by("position", "pk")
    )
    if not rules:
        return 0
    leads = list(
        Lead.objects.select_for_update(of=("self",))
        .filter(pk__in=ids, owner__isnull=True)
        .order_by("pk")
    )
    pool = _load_pool(rules)
    assigned: dict[int, list[Lead]] = defaultdict(list)
    activities = []
    blocked: dict[int, tuple[AssignmentRule, int]] = {}
    now = timezone.now()
    for lead in leads:
        rule = next((r for r in rules if rule_matches(r, lead)), None)
        if rule is None:
            continue
        owner = _next_owner(rule, pool)
        if owner is None:
            blocked[rule.pk] = (rule, blocked.get(rule.pk, (rule, 0))[1] + 1)
            continue
        lead.owner = owner
        pool.open_counts[owner.pk] += 1
        if rule.user_id is None:
            rule.last_assigned = owner
        assigned[owner.pk].append(lead)
        activities.append(
            Activity(
                kind=ActivityKind.CHANGE,
                subject="Lead assigned",
                body=f"Assigned to {owner} by rule “{rule.name}”",
                lead=lead,
                created_at=now,
            )
        )
    for owner_id, owned in assigned.items():
        Lead.objects.filter(pk__in=[lead.pk for lead in owned]).update(
            owner_id=owner_id, updated_at=now, version=F("version") + 1
        )
    Activity.objects.bulk_create(activities)
    for rule in rules:
        if rule.user_id is None:
            AssignmentRule.objects.filter(pk=rule.pk).update(last_assigned=rule.last_assigned)
    for owner_id, owned in assigned.items():
        owner = pool.users[owner_id]
        if len(owned) == 1:
            notification_create(
                recipient=owner,
                kind="lead_assigned",
                title=f"New lead for you: {owned[0].full_name}",
                url=reverse("leads:lead_detail", args=[owned[0].pk]),
            )
        else:
            notification_create(
                recipient=owner,
                kind="lead_assigned",
                title=f"{len(owned)} new leads assigned to you",
                url=f"{reverse('leads:lead_list')}?mine=1&status=new",
            )
    for rule, count in blocked.values():
        noun = "lead is" if count == 1 else f"{count} leads are"
        for manager in _managers_to_warn(rule):
            notification_create(
                recipient=manager,
                kind="assignment_capped",
                title=f"Rule “{rule.name}”: everyone is at their cap",
                body=f"A new {noun} unassigned because every rep of the rule holds "
                f"{rule.cap_per_rep} open leads. Assign by hand or raise the cap.",
                url=f"{reverse('leads:lead_list')}?status=new",
            )
    return sum(len(owned) for owned in assigned.values())


def lead_assign_auto(*, lead: Lead) -> User | None:
    """Give an unowned lead to whoever the first matching rule names; None if nobody gets it."""
    if lead.owner_id is not None:
        return lead.owner
    leads_assign_auto_bulk([lead.pk])
    owner_id, lead.version = (
        Lead.objects.filter(pk=lead.pk).values_list("owner_id", "version").get()
    )
    if owner_id is not None:
        lead.owner = User.objects.get(pk=owner_id)
    return lead.owner


def assignment_rule_list() -> list[AssignmentRule]:
    """Every rule in the order they are tried, with what the settings page shows."""
    return list(
        AssignmentRule.objects.select_related("source", "campaign", "team", "user").order_by(
            "position", "pk"
        )
    )


def assignment_preview(*, rules: list[AssignmentRule]) -> dict[int, User | None]:
    """Who each rule would give its next lead to now (read-only; nothing is locked)."""
    pool = _load_pool(rules)
    return {rule.pk: _next_owner(rule, pool) for rule in rules}


def lead_reassignment_record(
    *, actor: Any, leads: list[Lead], previous: dict[int, Any], owner: User
) -> None:
    """Write "Reassigned from A to B by C" on each lead and tell the new owner (once)."""
    who = actor if isinstance(actor, User) else None
    moved = [lead for lead in leads if previous.get(lead.pk) != owner]
    if not moved:
        return
    now = timezone.now()
    Activity.objects.bulk_create(
        Activity(
            kind=ActivityKind.CHANGE,
            subject="Lead reassigned",
            body=f"Reassigned from {previous.get(lead.pk) or 'nobody'} to {owner}"
            + f" by {who or 'the system'}",
            actor=who,
            lead=lead,
            created_at=now,
        )
        for lead in moved
    )
    if who is not None and who.pk == owner.pk:
        return  # taking a lead yourself needs no notification
    if len(moved) == 1:
        title = f"{who or 'Someone'} assigned you the lead {moved[0].full_name}"
        url = reverse("leads:lead_detail", args=[moved[0].pk])
    else:
        title = f"{who or 'Someone'} assigned you {len(moved)} leads"
        url = f"{reverse('leads:lead_list')}?mine=1"
    notification_create(recipient=owner, kind="lead_assigned", title=title, url=url)


# --- managing the rules ---------------------------------------------------------------------


@dataclass
class RuleInput:
    """What an assignment rule is made of; None/empty conditions match any lead."""

    name: str = ""
    source: Source | None = None
    campaign: Campaign | None = None
    country: str = ""
    team: Team | None = None
    user: User | None = None
    cap_per_rep: int | None = None
    is_active: bool = True


def _require_manager(actor: Any) -> None:
    if getattr(actor, "role", None) not in (Role.ADMIN, Role.MANAGER) or not actor.is_active:
        raise DomainError("Only admins and managers can change assignment rules.")


def _clean_rule(data: RuleInput) -> RuleInput:
    data.name = (data.name or "").strip()
    if not data.name:
        raise DomainError("A rule needs a name.", field="name")
    if len(data.name) > 120:
        raise DomainError("A rule name can be at most 120 characters long.", field="name")
    data.country = (data.country or "").strip().upper()
    if data.country and (len(data.country) != 2 or not data.country.isalpha()):
        raise DomainError(
            "Country must be a two-letter ISO code such as DE or US.", field="country"
        )
    if (data.team is None) == (data.user is None):
        raise DomainError("Choose either a team (round-robin) or one user.", field="team")
    if data.user is not None and not data.user.is_active:
        raise DomainError(f"{data.user} is deactivated and cannot get leads.", field="user")
    if data.cap_per_rep is not None and data.cap_per_rep < 1:
        raise DomainError("The cap must be at least 1 (or empty for no cap).", field="cap_per_rep")
    return data


RULE_FIELDS = ("name", "source", "campaign", "country", "team", "user", "cap_per_rep", "is_active")


@transaction.atomic
def assignment_rule_create(*, actor: Any, data: RuleInput) -> AssignmentRule:
    """Add a rule at the end of the list (admins and managers)."""
    _require_manager(actor)
    data = _clean_rule(data)
    position = (AssignmentRule.objects.aggregate(m=Max("position"))["m"] or 0) + 1
    return AssignmentRule.objects.create(
        position=position, **{name: getattr(data, name) for name in RULE_FIELDS}
    )


@transaction.atomic
def assignment_rule_update(*, actor: Any, rule: AssignmentRule, data: RuleInput) -> AssignmentRule:
    """Change a rule's conditions, target, cap or whether it is active."""
    _require_manager(actor)
    data = _clean_rule(data)
    current = AssignmentRule.objects.select_for_update().get(pk=rule.pk)
    for name in RULE_FIELDS:
        setattr(current, name, getattr(data, name))
    if current.team_id is None:
        current.last_assigned = None
    current.save()
    return current


@transaction.atomic
def assignment_rule_set_active(
    *, actor: Any, rule: AssignmentRule, is_active: bool
) -> AssignmentRule:
    """Switch a rule on or off; an inactive rule never assigns."""
    _require_manager(actor)
    AssignmentRule.objects.filter(pk=rule.pk).update(is_active=is_active, updated_at=timezone.now())
    rule.is_active = is_active
    return rule


@transaction.atomic
def assignment_rule_delete(*, actor: Any, rule: AssignmentRule) -> None:
    """Remove a rule; leads it assigned keep their owners."""
    _require_manager(actor)
    AssignmentRule.objects.filter(pk=rule.pk).delete()


@transaction.atomic
def assignment_rule_reorder(*, actor: Any, rule: AssignmentRule, direction: str) -> None:
    """Move a rule one place up or down; positions are renumbered 1..n so they stay unique."""
    _require_manager(actor)
    if direction not in ("up", "down"):
        raise DomainError("A rule moves up or down.", field="direction")
    rules = list(AssignmentRule.objects.select_for_update().order_by("position", "pk"))
    index = next((i for i, r in enumerate(rules) if r.pk == rule.pk), None)
    if index is None:
        raise DomainError("This rule no longer exists.")
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(rules):
        rules[index], rules[other] = rules[other], rules[index]
    for position, item in enumerate(rules, start=1):
        if item.position != position:
            AssignmentRule.objects.filter(pk=item.pk).update(position=position)
