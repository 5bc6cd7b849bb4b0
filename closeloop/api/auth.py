"""API authentication: `Authorization: Bearer <token>` (tokens from `closeloop token create`)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from closeloop.accounts.selectors import api_token_lookup
from closeloop.accounts.services import api_token_touch


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        record = api_token_lookup(secret=token)
        if record is None:
            return None
        api_token_touch(token=record)
        request.user = record.user
        return record.user
