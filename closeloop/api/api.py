"""The REST API under /api/v1/ (OpenAPI at /api/v1/docs); one router module per domain."""

from __future__ import annotations

from ninja import NinjaAPI

from .auth import SessionAuth, TokenAuth, unauthenticated_limit
from .errors import error_handlers_install
from .idempotency import idempotency_record, idempotency_reserve
from .leads import router as leads_router
from .throttling import limited_per_address, rate_headers

api = NinjaAPI(
    title="Closeloop API",
    version="1",
    urls_namespace="api",
    auth=[TokenAuth(), SessionAuth(), unauthenticated_limit],
    docs_decorator=limited_per_address,
    description=(
        "Send `Authorization: Bearer <token>` (tokens from your profile page or "
        "`closeloop token create`). A POST with an `Idempotency-Key` header is done once: "
        "retries with the same key get the first answer. See docs/api.md."
    ),
)
# After authentication, the rate limit and validation: replay or reserve the Idempotency-Key.
api.add_decorator(idempotency_reserve, mode="operation")
# Around the whole operation: keep the answer for the key's retries; the RateLimit headers.
api.add_decorator(idempotency_record, mode="view")
api.add_decorator(rate_headers, mode="view")


error_handlers_install(api)
api.add_router("/leads", leads_router)
api.add_router("/coupons", "closeloop.api.coupons.router")
