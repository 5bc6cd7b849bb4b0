"""Times sent to the API: with any offset a client writes, kept as UTC.

ISO 8601 lets a client write offsets PostgreSQL cannot take (it refuses beyond ±15:59) and
years a calendar cannot hold; a time is therefore moved to UTC on the way in and kept between
the years 1900 and 2999, and anything else is invalid input (422) naming the field, as is a
time without an offset: "10:00" means another instant for every reader, so the API does not
guess.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.utils import timezone
from pydantic import AfterValidator

EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2999, 12, 31)


def moment_clean(value: dt.datetime) -> dt.datetime:
    """The same instant in UTC, or ValueError for a time outside 1900–2999."""
    if not EARLIEST <= value.date() <= LATEST:
        raise ValueError("Give a time between the years 1900 and 2999.")
    if timezone.is_naive(value):
        raise ValueError("Give the time with its offset, e.g. 2026-05-04T10:00:00+02:00 or …Z.")
    return value.astimezone(dt.UTC)


# a time in a body or a query (`updated_since: Moment | None = None`)
Moment = Annotated[dt.datetime, AfterValidator(moment_clean)]
