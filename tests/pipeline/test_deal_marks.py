"""Every open deal's next step and its marks (no next step, overdue, rotting) on the deal page,
the deal list (column and filters) and the board, computed without a query per deal."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from closeloop.activities.choices import ActivityKind
from closeloop.activities.models import Activity
from closeloop.activities.services import activity_complete, activity_create, activity_schedule
from closeloop.pipeline.choices import DealStatus
from tests.factories import DealFactory, stage_named

pytestmark = pytest.mark.django_db
LIST = reverse("pipeline:deal_list")
BOARD = reverse("pipeline:board")


def _task(actor: Any, deal: Any, when: dt.datetime, subject: str = "Call back") -> Activity:
    return activity_schedule(
        actor=actor, kind=ActivityKind.CALL, subject=subject, starts_at=when, deal=deal
    )


def _titles(client: Any, **params: str) -> set[str]:
    response = client.get(LIST, params)
    return {deal.title for deal in response.context["page_obj"]}


def _age(deal: Any, days: int) -> None:
    """Make the deal and its history `days` old (as if nothing happened since)."""
    then = timezone.now() - dt.timedelta(days=days)
    type(deal).objects.filter(pk=deal.pk).update(created_at=then)
    deal.stage_changes.update(changed_at=then)
    Activity.objects.filter(deal=deal).update(created_at=then)


def test_marks_and_their_filters_on_the_deal_list(rep: Any, rep_client: Any):
    now = timezone.now()
    planned = DealFactory(owner=rep, title="Planned")
    _task(rep, planned, now + dt.timedelta(days=1))
    late = DealFactory(owner=rep, title="Late")
    _task(rep, late, now - dt.timedelta(hours=3))
    _task(rep, late, now + dt.timedelta(days=3))
    idle = DealFactory(owner=rep, title="Idle", stage=stage_named("Proposal"))  # rots after 21
    _age(idle, 30)
    DealFactory(owner=rep, title="Won", status=DealStatus.WON)
    assert _titles(rep_client, mark="no_next_step") == {"Idle"}
    assert _titles(rep_client, mark="overdue") == {"Late"}
    assert _titles(rep_client, mark="rotting") == {"Idle"}
    html = rep_client.get(LIST).content.decode()
    assert "<th>Next step</th>" in html
    assert html.count('<span class="badge no-next-step">no next step</span>') == 1
    assert html.count('<span class="badge overdue">overdue</span>') == 1
    assert html.count('<span class="badge rotting">rotting</span>') == 1


def test_an_activity_or_a_stage_move_stops_the_rot_and_time_makes_it(rep: Any):
    from closeloop.pipeline.services import deal_move_to_stage

    def rotting(deal: Any, days_later: int = 0) -> bool:
        later = timezone.now() + dt.timedelta(days=days_later)
        from closeloop.pipeline.selectors import DealFilters, deal_list

        with mock.patch("django.utils.timezone.now", return_value=later):
            rows = deal_list(user=rep, filters=DealFilters(mark="rotting"))
            return deal.pk in {d.pk for d in rows}

    deal = DealFactory(owner=rep, stage=stage_named("Proposal"))
    assert not rotting(deal)
    assert not rotting(deal, 20)
    assert rotting(deal, 22)  # time travel: three weeks and a day without anything
    _age(deal, 30)
    activity_create(actor=rep, body="Called, no answer", deal=deal)  # a note counts
    assert not rotting(deal) and rotting(deal, 22)
    _age(deal, 30)
    deal_move_to_stage(actor=rep, deal=deal, stage=stage_named("Negotiation / commitment"))
    assert not rotting(deal) and not rotting(deal, 13) and rotting(deal, 15)
    _age(deal, 30)
    call = _task(rep, deal, timezone.now() - dt.timedelta(days=40))
    Activity.objects.filter(pk=call.pk).update(created_at=timezone.now() - dt.timedelta(days=40))
    assert rotting(deal)
    activity_complete(actor=rep, activity=call)  # done today
    assert not rotting(deal)


def test_the_next_step_is_the_earliest_open_activity(rep: Any, rep_client: Any):
    deal = DealFactory(owner=rep)
    now = timezone.now()
    later = _task(rep, deal, now + dt.timedelta(days=5), "Later call")
    first = _task(rep, deal, now + dt.timedelta(days=1), "First call")
    html = rep_client.get(reverse("pipeline:deal_detail", args=[deal.pk])).content.decode()
    assert "Next step:" in html
    assert f'<a href="{reverse("activity:detail", args=[first.pk])}">First call</a>' in html
    activity_complete(actor=rep, activity=first)
    html = rep_client.get(reverse("pipeline:deal_detail", args=[deal.pk])).content.decode()
    assert f'<a href="{reverse("activity:detail", args=[later.pk])}">Later call</a>' in html
    activity_complete(actor=rep, activity=later)
    html = rep_client.get(reverse("pipeline:deal_detail", args=[deal.pk])).content.decode()
    assert "no next step" in html


def test_board_cards_show_next_step_and_marks(rep: Any, rep_client: Any):
    planned = DealFactory(owner=rep, title="Planned", stage=stage_named("Proposal"))
    _task(rep, planned, timezone.now() - dt.timedelta(hours=1), "Overdue call")
    DealFactory(owner=rep, title="Bare", stage=stage_named("Proposal"))
    html = rep_client.get(BOARD).content.decode()
    assert "Overdue call" in html
    assert html.count("deal-card no-next") == 1
    assert html.count('deal-card overdue"') == 1


def test_list_and_board_query_counts_do_not_grow_with_deals(
    rep: Any, rep_client: Any, django_assert_max_num_queries: Any
):
    def fill(n: int) -> None:
        for i in range(n):
            deal = DealFactory(owner=rep, stage=stage_named("Proposal"))
            if i % 2:
                _task(rep, deal, timezone.now() + dt.timedelta(days=i - 3))

    fill(2)
    with django_assert_max_num_queries(30) as few_list:
        rep_client.get(LIST)
    with django_assert_max_num_queries(30) as few_board:
        rep_client.get(BOARD)
    fill(20)
    with django_assert_max_num_queries(len(few_list.captured_queries)):
        rep_client.get(LIST, {"mark": "rotting"})
    with django_assert_max_num_queries(len(few_list.captured_queries)):
        rep_client.get(LIST)
    with django_assert_max_num_queries(len(few_board.captured_queries)):
        response = rep_client.get(BOARD)
    assert response.content.decode().count('class="deal-card') == 22


def test_the_reports_rotting_count_agrees_with_the_deal_list(admin: Any, rep: Any, teammate: Any):
    """`rotting_counts` (from the facts, for the reports) and the deal list's `rotting` mark
    count the same deals per stage, whatever happened to them and whenever one looks."""
    import random
    from collections import Counter

    import time_machine

    from closeloop.pipeline import services
    from closeloop.pipeline.deal_marks import rotting_counts
    from closeloop.pipeline.models import DealFacts, Stage
    from closeloop.pipeline.selectors import DealFilters, deal_list
    from tests.factories import lost_reason

    rng = random.Random(5)
    t0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    stages = list(Stage.objects.filter(pipeline__is_default=True))
    for n in range(30):
        day = rng.uniform(0, 60)
        with time_machine.travel(t0 + dt.timedelta(days=day), tick=False):
            deal = services.deal_create(
                actor=admin,
                title=f"D{n}",
                stage=rng.choice(stages),
                owner=rng.choice([rep, teammate]),
            )
        for _ in range(rng.randint(0, 3)):
            day += rng.uniform(1, 20)
            with time_machine.travel(t0 + dt.timedelta(days=day), tick=False):
                step = rng.random()
                if deal.status != DealStatus.OPEN:
                    deal = services.deal_reopen(actor=admin, deal=deal)
                elif step < 0.4:
                    target = rng.choice([s for s in stages if s.pk != deal.stage_id])
                    deal = services.deal_move_to_stage(actor=admin, deal=deal, stage=target)
                elif step < 0.6:
                    deal = services.deal_mark_lost(
                        actor=admin, deal=deal, reason=lost_reason("Price")
                    )
                else:
                    activity_create(actor=admin, body="Spoke to them", deal=deal)
    for days in (40, 70, 90, 120, 200):
        later = t0 + dt.timedelta(days=days)
        with mock.patch("django.utils.timezone.now", return_value=later):
            listed = Counter(
                d.stage_id for d in deal_list(user=admin, filters=DealFilters(mark="rotting"))
            )
        counted = rotting_counts(DealFacts.objects.all(), now=later)
        assert counted == dict(listed)
    assert any(counted.values())
