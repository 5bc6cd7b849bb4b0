"""Shared by the activities tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _workspace(db: None) -> None:
    """The default pipeline exists (a transactional test may have flushed the migrations' rows)."""
    from closeloop.pipeline.services import workspace_defaults_ensure

    workspace_defaults_ensure()
