"""`Idempotency-Key` on POST: a retried create gets the first answer instead of a duplicate.

A client sends `Idempotency-Key: <a unique string, e.g. a UUID>` with a POST. The first request
with a key reserves it — a row, unique per caller (token, or signed-in user) and key, committed
before the work starts — runs, and keeps its answer if it succeeded. A retry with the same key
and the same request gets that answer back (same status and body, `Idempotent-Replayed: true`).
A retry arriving while the first still runs waits for it (up to WAIT_SECONDS), so two
concurrent retries never both create. Following the IETF Idempotency-Key draft, the same key
with another method, path or body answers 422, and one still running after the wait 409.
Refused requests keep nothing: the key is released, and a corrected retry runs afresh.
Answers are kept API_IDEMPOTENCY_HOURS (24), then purged by a periodic job.

Two decorators on every operation do it: `idempotency_reserve` runs after authentication, the
rate limit and validation (so the caller is known and a malformed request reserves nothing);
`idempotency_record` wraps the whole operation and stores the rendered answer, or releases.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, RawPostDataException
from django.utils import timezone

from .errors import ApiError
from .models import IdempotencyKey

HEADER = "Idempotency-Key"
WAIT_SECONDS = 10.0
POLL_SECONDS = 0.05
# A reservation this old whose answer never came belongs to a request that died with its
# process (gunicorn kills a worker after 30 s); a retry may take it over.
ABANDONED_AFTER = dt.timedelta(minutes=5)
_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")

BAD_KEY = "Send 1 to 255 visible ASCII characters (no spaces), e.g. a UUID."
REUSED = (
    "This Idempotency-Key was already used for a different request (another method, path or "
    "body). Use a new key for a new request."
)
STILL_RUNNING = (
    "The first request with this Idempotency-Key is still running; retry in a moment to get "
    "its answer."
)


def _caller(request: HttpRequest) -> str:
    token = getattr(request, "api_token", None)
    return f"token:{token.pk}" if token is not None else f"user:{request.user.pk}"


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256(f"{request.method}\n{request.get_full_path()}\n".encode())
    try:
        digest.update(request.body)
    except RawPostDataException:  # a multipart upload already read as a stream
        for name, values in sorted(request.POST.lists()):
            digest.update(f"{name}={values!r}\n".encode())
        for name, uploads in sorted(request.FILES.lists()):
            for upload in uploads:
                digest.update(f"{name}:{upload.name}:{upload.size}\n".encode())
    return digest.hexdigest()


def _replay(row: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(row.body, status=row.status, content_type=row.content_type)
    response["Idempotent-Replayed"] = "true"
    return response


def _kept_since(now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(hours=settings.API_IDEMPOTENCY_HOURS)


def idempotency_claim(*, caller: str, key: str, fingerprint: str) -> IdempotencyKey | HttpResponse:
    """Reserve `key` for this request, or the answer of the first request that used it.

    The INSERT commits at once (outside the work's transaction), so a concurrent retry sees
    the reservation and waits for the answer instead of doing the work a second time.
    """
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        now = timezone.now()
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(
                    caller=caller, key=key, fingerprint=fingerprint, created_at=now
                )
        except IntegrityError:
            pass
        row = IdempotencyKey.objects.filter(caller=caller, key=key).first()
        if row is None:
            continue  # the first request failed and released the key meanwhile
        if row.created_at < _kept_since(now):
            # expired but not purged yet: forget it and reserve afresh
            IdempotencyKey.objects.filter(pk=row.pk, created_at=row.created_at).delete()
            continue
        if row.fingerprint != fingerprint:
            raise ApiError(422, REUSED, code="idempotency_key_reused", fields={HEADER: REUSED})
        if row.status is not None:
            return _replay(row)
        if row.created_at < now - ABANDONED_AFTER:
            taken = IdempotencyKey.objects.filter(
                pk=row.pk, status__isnull=True, created_at=row.created_at
            ).update(created_at=now)
            if taken:
                row.created_at = now
                return row
            continue
        if time.monotonic() >= deadline:
            raise ApiError(409, STILL_RUNNING, fields={HEADER: STILL_RUNNING},
                           headers={"Retry-After": "1"})  # fmt: skip
        time.sleep(POLL_SECONDS)


def idempotency_keys_purge(*, now: dt.datetime | None = None) -> int:
    """Forget the answers (and abandoned reservations) older than API_IDEMPOTENCY_HOURS."""
    deleted, _ = IdempotencyKey.objects.filter(
        created_at__lt=_kept_since(now or timezone.now())
    ).delete()
    return deleted


def idempotency_reserve(view_func: Callable[..., Any]) -> Callable[..., Any]:
    """Operation decorator: a POST with a key is replayed, or reserves the key and runs."""

    @functools.wraps(view_func)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None:
            return view_func(request, *args, **kwargs)
        if not _VALID_KEY.match(key):
            raise ApiError(400, f"Invalid {HEADER}: {BAD_KEY}", fields={HEADER: BAD_KEY})
        claim = idempotency_claim(
            caller=_caller(request), key=key, fingerprint=_fingerprint(request)
        )
        if isinstance(claim, HttpResponse):
            return claim
        request.idempotency_row = claim  # type: ignore[attr-defined]
        return view_func(request, *args, **kwargs)

    return wrapped


def _keep(row: IdempotencyKey, response: HttpResponseBase) -> None:
    """Store a successful answer for the retries; release the key after any other."""
    body: str | None = None
    if 200 <= response.status_code < 300 and isinstance(response, HttpResponse):
        try:
            body = response.content.decode()
        except UnicodeDecodeError:
            body = None
    if body is None:
        IdempotencyKey.objects.filter(pk=row.pk).delete()
        return
    IdempotencyKey.objects.filter(pk=row.pk).update(
        status=response.status_code, content_type=response.get("Content-Type", ""), body=body
    )


def idempotency_record(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """View decorator around the whole operation: keeps or releases what was reserved."""

    @functools.wraps(run)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            response = run(request, *args, **kwargs)
        except BaseException:
            row = getattr(request, "idempotency_row", None)
            if row is not None:
                IdempotencyKey.objects.filter(pk=row.pk).delete()
            raise
        row = getattr(request, "idempotency_row", None)
        if row is not None:
            _keep(row, response)
        return response

    return wrapped
