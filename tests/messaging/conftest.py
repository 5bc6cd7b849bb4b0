"""The task worker's loop and records to write emails about: a template (the SMTP server and
the rep's bakery deal are shared fixtures of tests/conftest.py and tests/mail.py)."""

from __future__ import annotations

from typing import Any

import pytest

from closeloop.messaging.models import EmailTemplate
from tests.mail import Server as Server
from tests.mail import SmtpRecorder as SmtpRecorder
from tests.mail import free_port as free_port
from tests.mail import later as later
from tests.worker import run_worker as run_worker


@pytest.fixture
def follow_up(admin: Any) -> EmailTemplate:
    return EmailTemplate.objects.create(
        name="Follow-up",
        subject="{{ deal.title }} for {{ company.name }}",
        text_body="Hi {{ contact.first_name }},\n\nthanks for your time.\n\n{{ owner.name }}",
        html_body=(
            "<html><head><style>p { color: #123456; }</style></head><body>"
            "<p>Hi {{ contact.first_name }},</p><p>thanks for your time.</p>"
            "<p>{{ owner.signature }}</p></body></html>"
        ),
        created_by=admin,
    )
