"""The REST API under /api/v1/ (OpenAPI at /api/v1/docs); one router module per domain."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from closeloop.core.exceptions import DomainError

from .auth import TokenAuth
from .leads import router as leads_router

api = NinjaAPI(
    title="Closeloop API",
    version="1",
    urls_namespace="api",
    auth=TokenAuth(),
    description="Send `Authorization: Bearer <token>`; `closeloop token create` makes tokens.",
)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    """Rules a caller broke come back as 409 (duplicates) or 400, with the readable message."""
    status = 409 if exc.message.startswith("A duplicate") else 400
    return api.create_response(request, {"detail": exc.message, "field": exc.field}, status=status)


api.add_router("/leads", leads_router)
api.add_router("/coupons", "closeloop.api.coupons.router")
api.add_router("/webhooks", "closeloop.api.webhooks.router")
