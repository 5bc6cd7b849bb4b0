"""One error shape for every API answer that is not a success.

Every error body is `{"code": …, "message": …, "fields": {field: reason}}`:

| status | code | when |
| --- | --- | --- |
| 400 | `invalid` | a rule of the domain refused the request (the message says which) |
| 401 | `unauthenticated` | no token, an unknown or revoked one |
| 403 | `forbidden` | the token may not do this (read-only token, role) |
| 404 | `not_found` | no such record, or one the token's user may not see |
| 409 | `conflict` | a stale `version`, a duplicate, or an `Idempotency-Key` reused differently |
| 422 | `validation` | the body or query does not fit the schema (each field named) |
| 429 | `rate_limited` | too many requests; `Retry-After` says how many seconds to wait |
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from closeloop.core.exceptions import ConflictError, DomainError

CODES = {
    400: "invalid",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "validation",
    429: "rate_limited",
}


class ErrorOut(Schema):
    """What every failed request answers."""

    code: str
    message: str
    fields: dict[str, str] = {}


class ApiError(Exception):
    """A refusal raised by an endpoint, rendered as `ErrorOut` with the given status."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or CODES.get(status, "error")
        self.fields = fields or {}
        self.headers = headers or {}


def not_found(what: str = "record") -> ApiError:
    """404 for a record that does not exist or is not visible (the two are not told apart)."""
    return ApiError(404, f"No such {what}, or you may not see it.")


def field_error(field: str, message: str, status: int = 400) -> ApiError:
    """A refusal about one named field of the request."""
    return ApiError(status, message, fields={field: message})


@contextmanager
def fields_renamed(names: dict[str, str]) -> Iterator[None]:
    """Name a service's refused field as the API calls it (`stage` → `stage_id`)."""
    try:
        yield
    except DomainError as error:
        if error.field in names:
            error.field = names[error.field]
        raise


# Common responses for the OpenAPI spec: what any authenticated endpoint may answer.
ERRORS: dict[int, Any] = {code: ErrorOut for code in (400, 401, 403, 404, 422, 429)}
WRITE_ERRORS: dict[int, Any] = {**ERRORS, 409: ErrorOut}


def _location(loc: list[Any] | tuple[Any, ...]) -> str:
    """`["body", "payload", "lines", 0, "quantity"]` → `lines.0.quantity`."""
    parts = [str(p) for p in loc]
    while parts and parts[0] in {"body", "query", "path", "header", "cookie", "form", "payload"}:
        parts.pop(0)
    return ".".join(parts) or "body"


def _respond(api: NinjaAPI, request: HttpRequest, error: ApiError) -> HttpResponse:
    body = {"code": error.code, "message": error.message, "fields": error.fields}
    response = api.create_response(request, body, status=error.status)
    for name, value in error.headers.items():
        response[name] = value
    return response


def throttled_error(exc: Throttled) -> ApiError:
    """429 with `Retry-After` for a request over its rate limit."""
    wait = max(1, int(getattr(exc, "wait", None) or 1))
    message = f"Too many requests; try again in {wait} s."
    return ApiError(429, message, headers={"Retry-After": str(wait)})


def error_response(request: HttpRequest, exc: Exception) -> HttpResponse:
    """The error shape for answers given outside an endpoint (the public docs pages)."""
    error = throttled_error(exc) if isinstance(exc, Throttled) else exc
    if not isinstance(error, ApiError):
        raise TypeError(f"not an API error: {exc!r}")
    body = {"code": error.code, "message": error.message, "fields": error.fields}
    response = JsonResponse(body, status=error.status)
    for name, value in error.headers.items():
        response[name] = value
    return response


def error_handlers_install(api: NinjaAPI) -> None:
    """Turn every exception an endpoint may raise into the one error shape."""

    @api.exception_handler(ApiError)
    def api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return _respond(api, request, exc)

    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        status = 409 if isinstance(exc, ConflictError) else 400
        fields = {exc.field: exc.message} if exc.field else {}
        return _respond(api, request, ApiError(status, exc.message, fields=fields))

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        fields: dict[str, str] = {}
        for item in exc.errors:
            fields.setdefault(_location(item.get("loc", ())), str(item.get("msg", "invalid")))
        names = ", ".join(fields) or "the request"
        return _respond(api, request, ApiError(422, f"Invalid value for {names}.", fields=fields))

    @api.exception_handler(Throttled)
    def throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
        return _respond(api, request, throttled_error(exc))

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        message = "Send a valid token: `Authorization: Bearer <token>`."
        return _respond(api, request, ApiError(401, message))

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return _respond(api, request, ApiError(exc.status_code, str(exc)))

    @api.exception_handler(Http404)
    def missing(request: HttpRequest, exc: Http404) -> HttpResponse:
        return _respond(api, request, not_found())
