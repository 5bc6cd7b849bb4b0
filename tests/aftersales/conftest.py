"""Surveys shared by the aftersales tests: an NPS and a CSAT survey, set up by an admin."""

from __future__ import annotations

from typing import Any

import pytest

from closeloop.aftersales.models import Survey
from closeloop.aftersales.surveys import survey_save


@pytest.fixture
def nps_survey(admin: Any) -> Survey:
    return survey_save(
        actor=admin,
        name="After purchase NPS",
        kind="nps",
        question="How likely are you to recommend us?",
        comment_label="What is the main reason for your score?",
        questions=[
            {"label": "Was the delivery on time?", "kind": "yesno"},
            {"label": "How easy was ordering?", "kind": "scale"},
        ],
        email_subject="How did we do, {{ contact.first_name }}?",
        email_body="Hello {{ contact.first_name }},\n\nplease tell us how we did on "
        "{{ deal.title }}:",
    )


@pytest.fixture
def csat_survey(admin: Any) -> Survey:
    return survey_save(
        actor=admin,
        name="Support CSAT",
        kind="csat",
        question="How satisfied are you?",
        comment_label="",
        questions=[],
        email_subject="Your opinion",
        email_body="Please answer here: {{ survey.link }}\nThank you!",
    )
