"""The pipeline and lost-reason setup services: one default pipeline, unique names, retiring."""

from __future__ import annotations

import pytest

from closeloop.core.exceptions import DomainError
from closeloop.pipeline import services
from closeloop.pipeline.models import Pipeline
from closeloop.pipeline.selectors import lost_reason_choices

pytestmark = pytest.mark.django_db


def test_a_new_pipeline_gets_the_default_stages_but_not_the_default_flag(manager, sales):
    pipeline = services.pipeline_create(actor=manager, name="Partners")
    names = list(pipeline.stages.order_by("position").values_list("name", flat=True))
    assert names == ["Demo / meeting", "Proposal", "Negotiation / commitment"]
    assert not pipeline.is_default
    assert Pipeline.objects.get(is_default=True) == sales


@pytest.mark.parametrize(
    ("name", "message"), [("sales", "already a pipeline"), (" ", "needs a name")]
)
def test_pipeline_create_refuses_bad_names(admin, sales, name, message):
    with pytest.raises(DomainError, match=message):
        services.pipeline_create(actor=admin, name=name)
    assert Pipeline.objects.count() == 1


def test_making_a_pipeline_the_default_unsets_the_old_one(admin, sales):
    partners = services.pipeline_create(actor=admin, name="Partners")
    services.pipeline_update(actor=admin, pipeline=partners, name="Partner sales", is_default=True)
    assert list(Pipeline.objects.filter(is_default=True).values_list("name", flat=True)) == [
        "Partner sales"
    ]


def test_the_default_pipeline_cannot_just_stop_being_the_default(admin, sales):
    with pytest.raises(DomainError, match="Make another pipeline the default") as err:
        services.pipeline_update(actor=admin, pipeline=sales, name="Sales", is_default=False)
    assert err.value.field == "is_default"
    sales.refresh_from_db()
    assert sales.is_default


def test_lost_reasons_are_unique_regardless_of_case(manager):
    with pytest.raises(DomainError, match="already in the list"):
        services.lost_reason_create(actor=manager, name="PRICE")
    reason = services.lost_reason_create(actor=manager, name="Went in-house")
    assert reason in lost_reason_choices()


def test_a_retired_reason_is_no_longer_offered_and_can_come_back(manager):
    reason = services.lost_reason_create(actor=manager, name="Went in-house")
    services.lost_reason_update(actor=manager, reason=reason, name=reason.name, is_active=False)
    assert reason not in lost_reason_choices()
    services.lost_reason_update(actor=manager, reason=reason, name="In-house", is_active=True)
    assert reason in lost_reason_choices()


def test_a_rep_cannot_change_lost_reasons(rep):
    with pytest.raises(DomainError, match="Only admins and managers"):
        services.lost_reason_create(actor=rep, name="Went in-house")
