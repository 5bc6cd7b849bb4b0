"""Moving from SQLite to PostgreSQL: every row arrives with its values and ids, and the
sequences continue after the highest id (a new record can be created).

Runs when the tests run on SQLite and a PostgreSQL server answers at CLOSELOOP_TEST_POSTGRES
(default postgres://postgres@127.0.0.1:5432/postgres); the test makes its own database there.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import dj_database_url
import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, connections

from closeloop.core.backups.copy import models_in_dependency_order, target_database
from closeloop.leads.services import LeadInput, lead_create
from closeloop.people.models import Organization
from closeloop.pipeline.models import Deal, StageChange
from closeloop.pipeline.services import deal_mark_lost, deal_move_to_stage
from tests.factories import (
    ContactFactory,
    DealFactory,
    OrganizationFactory,
    UserFactory,
    lost_reason,
    stage_named,
)

SERVER = os.environ.get("CLOSELOOP_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")

pytestmark = [
    pytest.mark.skipif(connection.vendor != "sqlite", reason="copies from a SQLite database"),
    pytest.mark.django_db,
]


def _admin() -> Any:
    import psycopg

    conf = dj_database_url.parse(SERVER)
    try:
        return psycopg.connect(
            dbname=conf["NAME"] or "postgres",
            user=conf["USER"] or None,
            password=conf["PASSWORD"] or None,
            host=conf["HOST"] or None,
            port=conf["PORT"] or None,
            autocommit=True,
            connect_timeout=3,
        )
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL server at {SERVER.split('@')[-1]}: {exc}")


@pytest.fixture
def empty_postgres(tmp_path: Path) -> Iterator[str]:
    """A freshly migrated PostgreSQL database of its own (as a user would prepare it)."""
    name = f"closeloop_copy_test_{os.getpid()}"
    url = SERVER.rsplit("/", 1)[0] + f"/{name}"
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url, "CLOSELOOP_VAR_DIR": str(tmp_path / "var")}
    subprocess.run(
        [sys.executable, "-m", "closeloop", "migrate", "-v0"],
        check=True,
        env=env,
        cwd=settings.BASE_DIR,
    )
    yield url
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _populate() -> None:
    rep = UserFactory(email="rita@example.com")
    for n in range(5):
        organization = OrganizationFactory(name=f"Org {n}", owner=rep)
        ContactFactory(first_name=f"Contact {n}", organization=organization)
        lead_create(actor=rep, data=LeadInput(first_name=f"L{n}", email=f"l{n}@example.com"))
        deal = DealFactory(title=f"Deal {n}", owner=rep, organization=organization)
        deal_move_to_stage(actor=rep, deal=deal, stage=stage_named("Negotiation / commitment"))
    deal_mark_lost(actor=rep, deal=Deal.objects.get(title="Deal 0"), reason=lost_reason("Price"))


def test_everything_arrives_and_new_records_follow(empty_postgres: str) -> None:
    _populate()
    call_command("copy_to_postgres", to=empty_postgres, verbosity=0)

    with target_database(empty_postgres) as alias:
        for model in models_in_dependency_order():
            manager = model._base_manager
            assert manager.using(alias).count() == manager.count(), model._meta.label
        deal = Deal.objects.get(title="Deal 0")
        copied = Deal.objects.using(alias).get(pk=deal.pk)
        assert (copied.title, copied.value, copied.status, copied.stage_id) == (
            "Deal 0",
            Decimal("1000.00"),
            "lost",
            deal.stage_id,
        )
        assert copied.created_at == deal.created_at and copied.lost_reason_id is not None
        history = ["from_stage_id", "to_stage_id", "changed_at", "actor_id"]
        assert list(
            StageChange.objects.using(alias).filter(deal=deal.pk).order_by("pk").values(*history)
        ) == list(StageChange.objects.filter(deal=deal).order_by("pk").values(*history))
        for label in ["leads.Lead", "people.Contact", "accounts.User"]:
            model = apps.get_model(label)
            assert list(model._base_manager.using(alias).order_by("pk").values()) == list(
                model._base_manager.order_by("pk").values()
            ), label

        # the sequences continue after the copied ids
        highest = Organization.objects.order_by("-pk").values_list("pk", flat=True)[0]
        new = Organization.objects.using(alias).create(name="Made on PostgreSQL")
        assert new.pk == highest + 1


def test_a_target_with_data_or_another_migration_state_is_refused(empty_postgres: str) -> None:
    _populate()
    call_command("copy_to_postgres", to=empty_postgres, verbosity=0)
    with pytest.raises(CommandError, match="already has data"):
        call_command("copy_to_postgres", to=empty_postgres, verbosity=0)

    with target_database(empty_postgres) as alias, connections[alias].cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'pipeline'")
    with pytest.raises(CommandError, match=r"not migrated to the same state .*pipeline\.0001"):
        call_command("copy_to_postgres", to=empty_postgres, verbosity=0)


def test_only_postgres_urls_are_accepted() -> None:
    with pytest.raises(CommandError, match="--to must be a postgres:// URL, not sqlite"):
        call_command("copy_to_postgres", to="sqlite:///tmp/x.sqlite3")
