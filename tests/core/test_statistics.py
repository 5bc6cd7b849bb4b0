"""The planner's statistics are refreshed every day, and by the migration that added an index."""

from __future__ import annotations

import pytest
from django.db import connection

from closeloop.core.schedule import PERIODIC_JOBS
from closeloop.core.tasks import statistics_refresh
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db


def test_statistics_are_refreshed_daily(rep):
    job = PERIODIC_JOBS["statistics_refresh"]
    assert job.interval().days == 1
    for _ in range(3):
        DealFactory(owner=rep)
    assert statistics_refresh() == connection.vendor
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'pipeline_deal'")
        else:
            cursor.execute(
                "SELECT count(*) FROM pg_stats WHERE tablename = 'pipeline_deal'"
                " AND attname = 'owner_id'"
            )
        assert cursor.fetchone()[0] >= 1  # the deals table has statistics to plan with
