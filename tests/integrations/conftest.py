from __future__ import annotations

import pytest

from .receiver import receiver as receiver


@pytest.fixture(autouse=True)
def _defaults(db: None) -> None:
    """Transactional tests start from a flushed database: put the default pipeline back."""
    from closeloop.pipeline.services import workspace_defaults_ensure

    workspace_defaults_ensure()
