from __future__ import annotations

import pytest
from django.test import Client

from closeloop.accounts.choices import Role
from closeloop.accounts.models import Team, User

from .factories import PASSWORD, TeamFactory, UserFactory


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
