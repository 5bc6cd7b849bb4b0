"""Request middleware of the accounts: the user's time zone, the idle session timeout."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone


class UserTimeZoneMiddleware:
    """Activate the user's zone for the request, so templates and forms read and write in it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "time_zone", ""):
            timezone.activate(user.zone)
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            # the worker thread serves the next request for somebody else
            timezone.deactivate()


# How often an active session's expiry is moved forward: often enough that the idle timeout is
# kept to within this margin, rarely enough that most requests do not write the session row.
SESSION_REFRESH_SECONDS = 60
SEEN_KEY = "_closeloop_seen"


class SessionIdleMiddleware:
    """A signed-in session lives SESSION_COOKIE_AGE seconds past the user's last request.

    Django sets a session's expiry when the session is saved; saving it on every request
    (SESSION_SAVE_EVERY_REQUEST) would write the session row on every page and htmx call.
    Instead the session notes when it was last refreshed (at first: the login, which saved it)
    and is saved again, expiry and cookie moved forward, once that is more than
    SESSION_REFRESH_SECONDS ago.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            seen = request.session.get(SEEN_KEY)
            if not isinstance(seen, int):
                # not refreshed yet: logging in saved it (and set last_login) moments ago
                seen = int(user.last_login.timestamp()) if user.last_login else 0
            if now - seen >= SESSION_REFRESH_SECONDS:
                request.session[SEEN_KEY] = now  # marks it modified: saved with a new expiry
        return self.get_response(request)
