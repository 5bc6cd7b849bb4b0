"""Importing organizations: duplicates share a domain or a name (case-insensitive)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models.functions import Lower

from closeloop.people.models import Organization

from .engine import RowError, RowIn
from .people import _URL, ORG_LIMITS, PeopleHandler, clean_domain, clean_text


class OrganizationHandler(PeopleHandler):
    model = Organization
    noun = "organization"
    FIELDS = (
        "name",
        "domain",
        "website",
        "phone",
        "address",
        "industry",
        "size",
        "notes",
        "owner",
        "external_id",
    )

    def clean(self, row: RowIn) -> dict[str, Any]:
        v = clean_text(row.values, ORG_LIMITS)
        if not v.get("name"):
            raise RowError("Name", "an organization needs a name")
        if v.get("domain"):
            v["domain"] = clean_domain(v["domain"])
        if v.get("website"):
            site = v["website"]
            site = site if "://" in site else f"https://{site}"
            try:
                _URL(site)
            except ValidationError as exc:
                raise RowError("Website", f"“{v['website']}” is not a web address") from exc
            v["website"] = site[:200]
            v.setdefault("domain", clean_domain(site))
        if "owner" in row.values:
            v["owner"] = self._owner(row.values)
        return v

    def key_values(self, v: dict[str, Any]) -> list[tuple[str, Any]]:
        return [("domain", v.get("domain")), ("name", v["name"].lower())]

    def existing(self, values: list[dict[str, Any]]) -> dict[str, dict[Any, int]]:
        found: dict[str, dict[Any, int]] = {
            "domain": {},
            "name": {},
            "phone": {},
            "external_id": {},
        }
        for key in ("domain", "phone", "external_id"):
            wanted = {v[key] for v in values if v.get(key)}
            if wanted:
                qs = Organization.objects.filter(**{f"{key}__in": wanted}).order_by("-pk")
                for value, pk in qs.values_list(key, "pk"):
                    found[key][value] = pk
        names = {v["name"].lower() for v in values if v.get("name")}
        if names:
            qs = Organization.objects.annotate(lname=Lower("name")).filter(lname__in=names)
            for name, pk in qs.order_by("-pk").values_list("lname", "pk"):
                found["name"][name] = pk
        return found

    def create(self, items: list[tuple[RowIn, dict[str, Any]]]) -> None:
        if self.ctx.dry_run or not items:
            return
        default_owner = self.ctx.actor if getattr(self.ctx.actor, "pk", None) else None
        Organization.objects.bulk_create(
            [
                Organization(
                    **{"owner": default_owner, **{k: x for k, x in v.items() if k in self.FIELDS}},
                    import_batch=self.ctx.batch,
                )
                for _, v in items
            ]
        )

    def update(self, obj: Any, v: dict[str, Any]) -> dict[str, Any]:
        return self._save_changes(obj, v, list(self.FIELDS))
