"""Fixtures of the web form tests: a form, its signed URL, and a way to post it like a person."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from closeloop.accounts.models import User
from closeloop.leads.models import WebForm
from closeloop.leads.webforms import (
    STARTED_FIELD,
    WebFormField,
    WebFormInput,
    webform_create,
    webform_public_token,
    webform_started_token,
)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """The users these tests log in as need no strong hashes; it saves seconds per test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def webform(admin: User) -> WebForm:
    return webform_create(
        actor=admin,
        data=WebFormInput(
            name="Contact us",
            fields=[
                WebFormField("first_name", "First name"),
                WebFormField("last_name", "Last name", required=True),
                WebFormField("email", "Your email", required=True),
                WebFormField("phone", "Phone"),
                WebFormField("company_name", "Company"),
            ],
            consent_text="Send me the newsletter.",
            thank_you_message="Thanks, <b>we</b> will call you!",
        ),
    )


@pytest.fixture
def token(webform: WebForm) -> str:
    return webform_public_token(webform)


def started(webform: WebForm, seconds_ago: float = 10) -> str:
    """A "form shown at" stamp from `seconds_ago` seconds ago (a person takes a while)."""
    return webform_started_token(webform, at=timezone.now() - dt.timedelta(seconds=seconds_ago))


@pytest.fixture
def submit(client: Client, webform: WebForm, token: str):
    """Post the public form as a person would; keyword arguments become posted fields."""

    def post(query: str = "", seconds_ago: float = 10, **values: Any):
        data = {STARTED_FIELD: started(webform, seconds_ago), **values}
        url = reverse("webforms:public_submit", args=[token]) + query
        return client.post(url, data)

    return post
