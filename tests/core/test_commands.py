"""The `closeloop` command and its management commands: demo, createuser, help."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command

from closeloop.accounts.choices import Role
from closeloop.accounts.models import User
from closeloop.core.cli import main
from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.models import Deal, StageChange

pytestmark = pytest.mark.django_db


def test_demo_creates_a_realistic_workspace(tmp_path, settings, capsys):
    settings.VAR_DIR = tmp_path
    call_command("demo", "--if-empty")
    out = capsys.readouterr().out
    assert "admin@demo.closeloop.test" in out and "password: " in out
    roles = sorted(User.objects.values_list("role", flat=True))
    assert roles == sorted([Role.ADMIN, Role.MANAGER, Role.REP, Role.REP])
    assert Deal.objects.count() == 200
    statuses = set(Deal.objects.values_list("status", flat=True))
    assert statuses == {DealStatus.OPEN, DealStatus.WON, DealStatus.LOST}
    assert not Deal.objects.filter(status=DealStatus.LOST, lost_reason__isnull=True).exists()
    stages_with_open = set(Deal.objects.filter(status="open").values_list("stage__name", flat=True))
    assert len(stages_with_open) == 3
    # six months of history, every deal starts with a creation step, nothing in the future
    first = StageChange.objects.order_by("changed_at").first()
    last = StageChange.objects.order_by("changed_at").last()
    assert (last.changed_at - first.changed_at).days >= 150
    assert StageChange.objects.filter(from_status="").count() == 200
    # leads from several channels, some attributed to campaigns
    from closeloop.leads.models import Lead

    assert Lead.objects.count() == 60
    assert Lead.objects.filter(source__isnull=True).count() == 0
    assert Lead.objects.filter(campaign__isnull=False).exists()
    # planned work: some done, some overdue, some today or later, some deals with no next step
    from django.utils import timezone

    from closeloop.activities.models import Activity
    from closeloop.activities.selectors import open_planned

    open_work = Activity.objects.filter(open_planned())
    assert Activity.objects.filter(done_at__isnull=False, outcome="held").exists()
    assert open_work.filter(due_at__lt=timezone.now()).exists()
    assert open_work.filter(due_at__gt=timezone.now()).exists()
    assert Deal.objects.filter(status="open").exclude(activities__in=open_work).exists()
    # booking pages for each rep and the team, each offering free times to book
    from closeloop.activities.booking.models import BookingPage
    from closeloop.activities.booking.selectors import free_slots_for

    pages = BookingPage.objects.order_by("slug")
    assert [p.team_id is not None for p in pages].count(True) == 1 and pages.count() == 3
    demo_type = pages.get(slug="sales").meeting_types.get(name="Product demo")
    now = timezone.now()
    week = dict(start=now, end=now + dt.timedelta(days=7), now=now)
    assert free_slots_for(meeting_type=demo_type, **week)
    # the logins printed work
    password = out.split("admin@demo.closeloop.test")[1].split("password: ")[1].split()[0]
    admin = User.objects.get(email="admin@demo.closeloop.test")
    assert admin.check_password(password)


def test_second_demo_run_keeps_the_data_and_prints_the_logins(tmp_path, settings, capsys):
    settings.VAR_DIR = tmp_path
    call_command("demo", "--if-empty")
    first = capsys.readouterr().out
    call_command("demo", "--if-empty")
    assert capsys.readouterr().out == first
    assert Deal.objects.count() == 200


def test_createuser_makes_a_user_who_can_log_in(client):
    call_command(
        "createuser",
        "--email",
        "New@Example.com",
        "--role",
        "manager",
        "--password",
        "a-long-safe-passphrase",
    )
    user = User.objects.get(email="new@example.com")
    assert user.role == Role.MANAGER
    assert client.login(username="new@example.com", password="a-long-safe-passphrase")


def test_createuser_refuses_weak_password_and_duplicates():
    with pytest.raises(CommandError, match=r"too short|too common"):
        call_command("createuser", "--email", "a@example.com", "--role", "rep", "--password", "123")
    call_command(
        "createuser",
        "--email",
        "a@example.com",
        "--role",
        "rep",
        "--password",
        "a-long-safe-passphrase",
    )
    with pytest.raises(CommandError, match="already a user"):
        call_command(
            "createuser",
            "--email",
            "A@example.com",
            "--role",
            "rep",
            "--password",
            "a-long-safe-passphrase",
        )


def test_cli_help_lists_the_commands(capsys):
    main(["help"])
    out = capsys.readouterr().out
    for command in ("serve", "migrate", "demo", "createuser", "shell"):
        assert f"  {command}" in out
