"""Two acceptances at the same moment give one: the proposal row is locked while answering."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection, connections

from closeloop.core.exceptions import DomainError
from closeloop.proposals.models import ProposalResponse
from closeloop.proposals.services import (
    Visitor,
    proposal_accept,
    proposal_create,
    proposal_send,
    responses,
)


@pytest.mark.django_db(transaction=True)
def test_concurrent_accepts_record_one_acceptance(
    rep: Any, bakery_deal: Any, web_template: Any, monkeypatch: Any
):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith("file:memory"):
        pytest.skip("in-memory SQLite shares one cache between threads; run on PostgreSQL")
    proposal = proposal_create(actor=rep, deal=bakery_deal, template=web_template)
    version = proposal_send(actor=rep, proposal=proposal)
    check_open = responses._check_open

    def slow_check(*args: Any) -> None:  # widen the window between reading and writing
        time.sleep(0.2)
        check_open(*args)

    monkeypatch.setattr(responses, "_check_open", slow_check)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def work(name: str) -> None:
        try:
            start.wait()
            proposal_accept(version=version, name=name, consent=True, visitor=Visitor())
            outcomes.append("accepted")
        except DomainError as error:
            outcomes.append(error.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(n,)) for n in ("Lena Lind", "Leo Lind")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("accepted") == 1
    [refused] = [o for o in outcomes if o != "accepted"]
    assert "already accepted" in refused
    assert ProposalResponse.objects.count() == 1
