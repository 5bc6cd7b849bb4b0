"""A test client that calls the API with a token of the given user."""

from __future__ import annotations

from typing import Any

from django.test import Client

from closeloop.accounts.services import api_token_create

# whose records each role sees with the workspace's default sharing (reps: their own and
# unowned ones; managers: their team's too; admins: everyone's)
ROLE_SEES = [
    ("rep", {"rep", "shared"}),
    ("manager", {"rep", "teammate", "shared"}),
    ("admin", {"rep", "teammate", "outsider", "shared"}),
]


class ApiClient(Client):
    """JSON in, token on every request."""

    def __init__(self, user: Any) -> None:
        super().__init__(HTTP_AUTHORIZATION=f"Bearer {api_token_create(actor=None, user=user)[1]}")

    def post_json(self, url: str, data: Any) -> Any:
        return self.post(url, data, content_type="application/json")

    def patch_json(self, url: str, data: Any) -> Any:
        return self.patch(url, data, content_type="application/json")


def ids(response: Any) -> list[int]:
    """The ids of a list page's items, in order (the page must have answered 200)."""
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]
