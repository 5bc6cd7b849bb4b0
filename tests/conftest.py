from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from closeloop.accounts.choices import Role
from closeloop.accounts.models import Team, User

from .database_file import database_file as database_file
from .factories import (
    PASSWORD,
    ContactEmailFactory,
    ContactFactory,
    DealFactory,
    OrganizationFactory,
    TeamFactory,
    UserFactory,
)
from .mail import closed_port as closed_port
from .mail import smtp_server as smtp_server


def pytest_configure(config: pytest.Config) -> None:
    """Hash test passwords cheaply: the production hasher is slow on purpose (argon2 with
    100 MB of memory per hash), and the suite makes and logs in thousands of users. Tests of
    the hashing itself (tests/security/test_passwords.py) set PASSWORD_HASHERS back with the
    settings fixture. Webhooks may go to private addresses, where the tests' receivers
    listen."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tests travel days ahead in time with clients that logged in at the real time; the
    # production idle timeout (8 hours) would log them out. tests/security/test_sessions.py
    # sets its own.
    settings.SESSION_COOKIE_AGE = 14 * 24 * 60 * 60
    # the tests' webhook receivers listen on 127.0.0.1 (tests of the rule switch it back)
    settings.WEBHOOK_PRIVATE_ADDRESSES = True


@pytest.fixture(autouse=True)
def _workspace_defaults_after_a_flush(request: pytest.FixtureRequest) -> None:
    """A transactional test starts from a database the one before flushed: without the default
    pipeline, lost reasons and lead sources the migrations made. Put them back."""
    marker = request.node.get_closest_marker("django_db")
    if "transactional_db" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction")
    ):
        request.getfixturevalue("transactional_db")
        from django.contrib.contenttypes.models import ContentType

        from closeloop.pipeline.services import workspace_defaults_ensure

        ContentType.objects.clear_cache()  # the flush may have numbered them anew
        workspace_defaults_ensure()


@pytest.fixture(autouse=True)
def _api_rate_tallies_forgotten() -> Any:
    """The API counts requests per process and writes them in batches; a test's database
    starts without another test's counts, so this process must forget its own too, and the
    tokens it remembers."""
    from closeloop.accounts import selectors
    from closeloop.api.throttling import rate_limit_tallies_forget

    rate_limit_tallies_forget()
    selectors.api_tokens_forget()  # likewise the tokens it looked up (rolled back with their test)
    selectors.workspace_settings_forget()  # and the workspace settings
    # Nothing is remembered across requests in tests: whether a second request came within the
    # memo's second would make query counts depend on the machine's speed. The tests of the
    # memos set their own time (tests/api/test_tokens.py, tests/settings/test_workspace_memo.py).
    memos = (selectors.TOKEN_MEMO_SECONDS, selectors.WORKSPACE_MEMO_SECONDS)
    selectors.TOKEN_MEMO_SECONDS = selectors.WORKSPACE_MEMO_SECONDS = 0.0
    yield
    selectors.TOKEN_MEMO_SECONDS, selectors.WORKSPACE_MEMO_SECONDS = memos
    rate_limit_tallies_forget()
    selectors.api_tokens_forget()
    selectors.workspace_settings_forget()


@pytest.fixture
def team(db: None) -> Team:
    return TeamFactory(name="North")


@pytest.fixture
def other_team(db: None) -> Team:
    return TeamFactory(name="South")


@pytest.fixture
def admin(db: None) -> User:
    return UserFactory(email="admin@example.com", full_name="Ada Admin", role=Role.ADMIN)


@pytest.fixture
def manager(team: Team) -> User:
    return UserFactory(
        email="manager@example.com", full_name="Mia Manager", role=Role.MANAGER, teams=[team]
    )


@pytest.fixture
def rep(team: Team) -> User:
    return UserFactory(email="rep@example.com", full_name="Rita Rep", teams=[team])


@pytest.fixture
def teammate(team: Team) -> User:
    return UserFactory(email="teammate@example.com", full_name="Tom Teammate", teams=[team])


@pytest.fixture
def outsider(other_team: Team) -> User:
    """A rep of another team."""
    return UserFactory(email="outsider@example.com", full_name="Otto Outsider", teams=[other_team])


def _client_for(user: User) -> Client:
    client = Client()
    assert client.login(username=user.email, password=PASSWORD)
    return client


@pytest.fixture
def admin_client_(admin: User) -> Client:
    return _client_for(admin)


@pytest.fixture
def manager_client(manager: User) -> Client:
    return _client_for(manager)


@pytest.fixture
def rep_client(rep: User) -> Client:
    return _client_for(rep)


@pytest.fixture
def outsider_client(outsider: User) -> Client:
    return _client_for(outsider)


@pytest.fixture
def client_for():
    return _client_for


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path: Any) -> None:
    """Files the tests store (attachments, uploads) go to a temporary folder, not var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def bakery_deal(rep: User) -> Any:
    """Rita's deal "New website" with Lena Lind of Bakery Lind (lena@bakery.example)."""
    organization = OrganizationFactory(name="Bakery Lind", owner=rep)
    contact = ContactFactory(
        first_name="Lena", last_name="Lind", organization=organization, owner=rep
    )
    ContactEmailFactory(contact=contact, email="lena@bakery.example")
    return DealFactory(title="New website", owner=rep, organization=organization, contact=contact)
