"""Fixtures of the settings tests."""

from __future__ import annotations

import pytest

from closeloop.accounts.choices import Role
from closeloop.accounts.models import User
from closeloop.pipeline.models import Pipeline
from tests.factories import UserFactory, default_pipeline


@pytest.fixture
def sales(db: None) -> Pipeline:
    """The default pipeline the migrations create: Demo / meeting, Proposal, Negotiation."""
    return default_pipeline()


@pytest.fixture
def second_admin(db: None) -> User:
    return UserFactory(email="second@example.com", full_name="Sam Second", role=Role.ADMIN)
