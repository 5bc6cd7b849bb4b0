"""The REST API under /api/v1/ (OpenAPI at /api/v1/docs); one router module per domain."""

from __future__ import annotations

from ninja import NinjaAPI

from .auth import TokenAuth
from .errors import error_handlers_install
from .leads import router as leads_router

api = NinjaAPI(
    title="Closeloop API",
    version="1",
    urls_namespace="api",
    auth=TokenAuth(),
    description="Send `Authorization: Bearer <token>`; `closeloop token create` makes tokens.",
)


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
