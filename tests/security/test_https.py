"""Served over HTTPS (HTTPS=1): secure cookies, HSTS, HTTP redirected; behind a proxy on another
machine, PROXY_SSL_HEADER names the header that says the request came over HTTPS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
NAMES = ["SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT",
         "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
         "SECURE_PROXY_SSL_HEADER"]  # fmt: skip


def settings_with(tmp_path: Path, **env: str) -> dict[str, Any]:
    """config/settings.py as a fresh process reads it with these environment variables."""
    environ = {k: v for k, v in os.environ.items() if k not in {"HTTPS", "SECURE_COOKIES"}}
    environ.update(SECRET_KEY="x" * 50, CLOSELOOP_VAR_DIR=str(tmp_path), **env)
    code = (
        "import json, config.settings as s; "
        f"print(json.dumps({{n: getattr(s, n, None) for n in {NAMES!r}}}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environ,
                         capture_output=True, text=True, check=True)  # fmt: skip
    return dict(json.loads(out.stdout))


def test_plain_http_by_default(tmp_path):
    values = settings_with(tmp_path)
    assert values == {
        "SESSION_COOKIE_SECURE": False, "CSRF_COOKIE_SECURE": False,
        "SECURE_SSL_REDIRECT": False, "SECURE_HSTS_SECONDS": 0,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False, "SECURE_HSTS_PRELOAD": False,
        "SECURE_PROXY_SSL_HEADER": None,
    }  # fmt: skip


def test_https_turns_on_secure_cookies_hsts_and_the_redirect(tmp_path):
    values = settings_with(tmp_path, HTTPS="1")
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] == 31536000
    assert values["SECURE_PROXY_SSL_HEADER"] is None


def test_each_part_can_be_set_on_its_own(tmp_path):
    values = settings_with(
        tmp_path, HTTPS="1", SSL_REDIRECT="0", HSTS_SECONDS="600",
        HSTS_INCLUDE_SUBDOMAINS="1", PROXY_SSL_HEADER="X-Forwarded-Proto",
    )  # fmt: skip
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 600 and values["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert settings_with(tmp_path, SECURE_COOKIES="1")["SESSION_COOKIE_SECURE"] is True


HTTPS_ON = {
    "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True, "SECURE_SSL_REDIRECT": True,
    "SECURE_HSTS_SECONDS": 31536000,
}  # fmt: skip


@override_settings(**HTTPS_ON)
def test_over_https_http_is_redirected_and_hsts_sent():
    response = Client().get("/accounts/login/?next=/deals/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/accounts/login/?next=/deals/"
    secure = Client().get("/accounts/login/", secure=True)
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000"


@override_settings(**HTTPS_ON)
def test_over_https_the_cookies_are_secure(rep):
    client = Client()
    client.get("/accounts/login/", secure=True)
    response = client.post(
        "/accounts/login/", {"username": rep.email, "password": PASSWORD}, secure=True
    )
    assert response.status_code == 302
    assert client.cookies["sessionid"]["secure"] is True
    assert client.cookies["sessionid"]["httponly"] is True
    assert client.cookies["sessionid"]["samesite"] == "Lax"
    assert client.cookies["csrftoken"]["secure"] is True


@override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"), **HTTPS_ON)
def test_behind_a_proxy_its_header_counts_as_https():
    response = Client().get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000"
    assert Client().get("/accounts/login/", HTTP_X_FORWARDED_PROTO="http").status_code == 301


def test_without_https_no_hsts_and_no_redirect():
    response = Client().get("/accounts/login/")
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response
