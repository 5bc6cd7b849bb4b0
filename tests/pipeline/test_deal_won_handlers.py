"""Other apps hook into winning a deal; their work is part of the win's transaction."""

from __future__ import annotations

import pytest

from closeloop.core.exceptions import DomainError
from closeloop.pipeline import services
from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.models import Deal
from closeloop.pipeline.services import deals


@pytest.fixture
def handlers(monkeypatch):
    registry: dict = {}
    monkeypatch.setattr(deals, "DEAL_WON_HANDLERS", registry)
    return registry


def test_a_handler_runs_with_the_won_deal(handlers, rep, bakery_deal):
    seen = []
    services.deal_won_handler_register(
        "spy", lambda *, actor, deal: seen.append((actor, deal.status))
    )
    services.deal_mark_won(actor=rep, deal=bakery_deal)
    assert seen == [(rep, DealStatus.WON)]


def test_a_failing_handler_undoes_the_win(handlers, rep, bakery_deal):
    def refuse(*, actor, deal):
        raise DomainError("no")

    services.deal_won_handler_register("refuse", refuse)
    with pytest.raises(DomainError):
        services.deal_mark_won(actor=rep, deal=bakery_deal)
    assert Deal.objects.get(pk=bakery_deal.pk).status == DealStatus.OPEN
