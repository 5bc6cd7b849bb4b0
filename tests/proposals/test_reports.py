"""Proposal reports from constructed histories: sent versions and the customers' answers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from closeloop.proposals.choices import ResponseKind
from closeloop.proposals.models import ProposalResponse, ProposalVersion
from closeloop.proposals.reports import ReportPeriod, proposal_report, quantile
from closeloop.proposals.services import LineIn, proposal_create, proposal_lines_set, version_freeze
from tests.factories import ContactFactory, DealFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _at(days_ago: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days_ago)


def negotiate(
    owner: Any,
    *,
    template: Any = None,
    rounds: list[list[LineIn]],
    sent_days_ago: list[float],
    accepted_days_ago: float | None = None,
    deal: Any = None,
) -> Any:
    """A proposal sent once per round (at the given days ago); the last round maybe accepted."""
    deal = deal or DealFactory(owner=owner, contact=ContactFactory(owner=owner))
    proposal = proposal_create(actor=owner, deal=deal, template=template)
    for lines, days_ago in zip(rounds, sent_days_ago, strict=True):
        proposal_lines_set(actor=owner, proposal=proposal, lines=lines)
        version = version_freeze(actor=owner, proposal=proposal)
        ProposalVersion.objects.filter(pk=version.pk).update(created_at=_at(days_ago))
    if accepted_days_ago is not None:
        answer = ProposalResponse.objects.create(
            version=version, kind=ResponseKind.ACCEPTED, name="Lena Lind", consent=True
        )
        ProposalResponse.objects.filter(pk=answer.pk).update(created_at=_at(accepted_days_ago))
    else:
        ProposalResponse.objects.create(version=version, kind=ResponseKind.DECLINED)
    return proposal


@pytest.fixture
def history(
    rep: Any, teammate: Any, outsider: Any, bakery_deal: Any, web_template: Any, website: Any
) -> dict[str, Any]:
    return {
        # the rep: accepted at the second version, 5 days after the first send, 10 % off
        "won": negotiate(
            rep,
            deal=bakery_deal,
            template=web_template,
            rounds=[[LineIn(product=website)], [LineIn(product=website, discount_value="10")]],
            sent_days_ago=[10, 7],
            accepted_days_ago=5,
        ),
        # the rep: declined, 20 % off; first sent 40 days ago
        "lost": negotiate(
            rep,
            template=web_template,
            rounds=[[LineIn(product=website, discount_value="20")]],
            sent_days_ago=[40],
        ),
        # the teammate: no template, accepted at once after 2 days, 5 % off
        "blank": negotiate(
            teammate,
            rounds=[[LineIn(name="Consulting", unit_price="1000", discount_value="5")]],
            sent_days_ago=[6],
            accepted_days_ago=4,
        ),
        # another team's rep: only admins see it
        "elsewhere": negotiate(
            outsider,
            template=web_template,
            rounds=[[LineIn(product=website, discount_value="50")]],
            sent_days_ago=[3],
            accepted_days_ago=2,
        ),
    }


def test_a_managers_report_covers_the_team(history: Any, manager: Any):
    report = proposal_report(user=manager, period=ReportPeriod())
    assert report.sent == 3
    assert [(r.template, r.sent, r.accepted, r.rate) for r in report.win_rates] == [
        ("(no template)", 1, 1, Decimal("100.0")),
        ("Website package", 2, 1, Decimal("50.0")),
    ]
    assert [(r.name, r.count, r.average_percent) for r in report.discount_by_rep] == [
        ("Rita Rep", 2, Decimal("15.0")),  # the accepted 10 % and the declined 20 %
        ("Tom Teammate", 1, Decimal("5.0")),
    ]
    assert [(r.name, r.count, r.average_percent) for r in report.discount_by_product] == [
        ("Website build", 2, Decimal("15.0")),
        ("Consulting", 1, Decimal("5.0")),
    ]
    # 5 and 2 days: median 3.5, 75th percentile 2 + 0.75 × 3 = 4.25 → 4.3
    assert (report.accepted, report.days_median, report.days_p75) == (
        2,
        Decimal("3.5"),
        Decimal("4.3"),
    )
    assert report.versions_average == Decimal("1.5")
    assert [(r.versions, r.accepted) for r in report.versions_distribution] == [(1, 1), (2, 1)]


def test_reps_see_their_own_and_admins_everything(history: Any, rep: Any, admin: Any):
    mine = proposal_report(user=rep, period=ReportPeriod())
    assert mine.sent == 2 and [r.name for r in mine.discount_by_rep] == ["Rita Rep"]
    everything = proposal_report(user=admin, period=ReportPeriod())
    assert everything.sent == 4
    website = next(r for r in everything.win_rates if r.template == "Website package")
    assert (website.sent, website.accepted, website.rate) == (3, 2, Decimal("66.7"))


def test_the_period_is_when_a_proposal_was_first_sent(history: Any, manager: Any):
    today = timezone.localdate()
    recent = proposal_report(
        user=manager, period=ReportPeriod(start=today - dt.timedelta(days=20), end=today)
    )
    assert recent.sent == 2
    assert [(r.template, r.sent) for r in recent.win_rates] == [
        ("(no template)", 1),
        ("Website package", 1),
    ]
    old = proposal_report(user=manager, period=ReportPeriod(end=today - dt.timedelta(days=20)))
    assert old.sent == 1 and old.accepted == 0 and old.days_median is None


def test_the_report_page_and_its_exports(
    history: Any, manager_client: Any, django_assert_max_num_queries: Any
):
    url = reverse("proposals:reports")
    with django_assert_max_num_queries(10):
        html = manager_client.get(url).content.decode()
    assert "Win rate by template" in html and "50.0 %" in html and "Rita Rep" in html
    response = manager_client.get(url, {"export": "templates"})
    assert response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode().lstrip("\ufeff").splitlines()
    assert lines == [
        "Template,Sent,Accepted,Win rate %",
        "(no template),1,1,100.0",
        "Website package,2,1,50.0",
    ]
    for table in ("reps", "products", "acceptance", "versions"):
        assert manager_client.get(url, {"export": table}).status_code == 200
    assert manager_client.get(url, {"export": "nope"}).status_code == 404


def test_the_page_does_not_query_per_proposal(
    history: Any, rep: Any, manager_client: Any, website: Any, django_assert_num_queries: Any
):
    url = reverse("proposals:reports")
    manager_client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as before:
        manager_client.get(url)
    for _ in range(3):
        negotiate(rep, rounds=[[LineIn(product=website)]], sent_days_ago=[1], accepted_days_ago=0)
    with django_assert_num_queries(len(before)):
        manager_client.get(url)


def test_quantiles_interpolate():
    values = [Decimal(n) for n in (1, 2, 3, 4)]
    assert quantile(values, Decimal("0.5")) == Decimal("2.5")
    assert quantile(values, Decimal("0.75")) == Decimal("3.25")
    assert quantile([Decimal(7)], Decimal("0.75")) == Decimal(7)
    assert quantile([], Decimal("0.5")) is None
