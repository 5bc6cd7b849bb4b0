"""Time zones by IANA name: users, activities, booking pages and visitors each have one."""

from __future__ import annotations

import functools
import zoneinfo

from django.conf import settings

from .exceptions import DomainError


@functools.cache
def zone_names() -> tuple[str, ...]:
    """Every IANA zone this machine knows (tzdata ships them where the OS does not), sorted."""
    return tuple(sorted(zoneinfo.available_timezones()))


def zone_is_known(name: str) -> bool:
    return name in _zone_name_set()


@functools.cache
def _zone_name_set() -> frozenset[str]:
    return frozenset(zone_names())


def zone_or_default(name: str | None) -> zoneinfo.ZoneInfo:
    """The named zone, or the server's TIME_ZONE when the name is empty or unknown."""
    if name and zone_is_known(name):
        return zoneinfo.ZoneInfo(name)
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def zone_clean(name: str | None, *, field: str = "time_zone") -> str:
    """A zone name as given, checked: empty stays empty (meaning "the default")."""
    name = (name or "").strip()
    if name and not zone_is_known(name):
        raise DomainError(
            f"“{name[:64]}” is not a time zone name (such as Europe/Berlin).", field=field
        )
    return name
