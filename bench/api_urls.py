"""URLs for bench/api.py: the app's own, plus a bare JSON view to compare the API with.

The bare view answers the 50 newest deals as JSON with nothing around it (no authentication,
no visibility rules, no rate limit, no schema): the cost of Django and the database alone.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path

from closeloop.pipeline.models import Deal
from config.urls import urlpatterns as app_urlpatterns


def bare_deals(request: HttpRequest) -> JsonResponse:
    fields = ("id", "title", "value", "currency", "status", "stage_id", "owner_id", "created_at")
    rows = list(Deal.objects.order_by("-id").values(*fields)[:50])
    return JsonResponse({"items": rows})


urlpatterns = [path("bench/bare-deals", bare_deals), *app_urlpatterns]
