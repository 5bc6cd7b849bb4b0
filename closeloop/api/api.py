"""The REST API under /api/v1/ (OpenAPI at /api/v1/docs); one router module per domain."""

from __future__ import annotations

from ninja import NinjaAPI

from .auth import SessionAuth, TokenAuth, unauthenticated_limit
from .errors import error_handlers_install
from .idempotency import idempotency_record, idempotency_reserve
from .leads import router as leads_router
from .renderer import FastJSONRenderer
from .text import nul_refused
from .throttling import limited_per_address, rate_headers

api = NinjaAPI(
    title="Closeloop API",
    version="1",
    urls_namespace="api",
    auth=[TokenAuth(), SessionAuth(), unauthenticated_limit],
    renderer=FastJSONRenderer(),
    docs_decorator=limited_per_address,
    description=(
        "Send `Authorization: Bearer <token>` (tokens from your profile page or "
        "`closeloop token create`). A POST with an `Idempotency-Key` header is done once: "
        "retries with the same key get the first answer. See docs/api.md."
    ),
)
# After authentication, the rate limit and validation: refuse text with NUL characters, then
# replay or reserve the Idempotency-Key.
api.add_decorator(nul_refused, mode="operation")
api.add_decorator(idempotency_reserve, mode="operation")
# Around the whole operation: keep the answer for the key's retries; the RateLimit headers.
api.add_decorator(idempotency_record, mode="view")
api.add_decorator(rate_headers, mode="view")


error_handlers_install(api)
api.add_router("/leads", leads_router)
api.add_router("/coupons", "closeloop.api.coupons.router")
api.add_router("/webhooks", "closeloop.api.webhooks.router")
api.add_router("/organizations", "closeloop.api.people.organizations.router")
api.add_router("/contacts", "closeloop.api.people.contacts.router")
api.add_router("/users", "closeloop.api.users.router")
api.add_router("/lost-reasons", "closeloop.api.reasons.lost_reasons_router")
api.add_router("/discard-reasons", "closeloop.api.reasons.discard_reasons_router")
api.add_router("/campaigns", "closeloop.api.campaigns.campaigns_router")
api.add_router("/sources", "closeloop.api.campaigns.sources_router")
api.add_router("/products", "closeloop.api.products.router")
api.add_router("/proposals", "closeloop.api.proposals.router")
api.add_router("/surveys", "closeloop.api.surveys.router")
api.add_router("/pipelines", "closeloop.api.pipelines.router")
api.add_router("/deals", "closeloop.api.deals.router")
api.add_router("/activities", "closeloop.api.activities.router")
