"""Reading cell values: dates (ISO, day-first, month-first, Excel serials), amounts, yes/no.

A date such as 01/02/2024 reads as 1 February or 2 January; such a value is only read with the
date order the user chose. Without one it is reported, never guessed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone

from closeloop.core.money import CURRENCY_CODES

DATE_ORDERS = ("dmy", "mdy")
EXCEL_EPOCH = dt.datetime(1899, 12, 30)
SERIAL_RANGE = (1, 2958465)  # 1900-01-01 .. 9999-12-31
TEXT_SERIAL_RANGE = (20000, 80000)  # a bare number in a CSV is read as a serial only here
_ISO = re.compile(
    r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?"
)
_NUMERIC = re.compile(
    r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})"
    r"(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?"
)
_WORDS = (
    "%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%d %b %y", "%b %d %y", "%d-%b-%Y",
    "%d-%b-%y", "%a %b %d %Y", "%A %B %d %Y",
)  # fmt: skip
TRUE = {"1", "yes", "y", "true", "t", "x", "ja", "oui", "si", "sí", "opted in", "subscribed"}
FALSE = {"0", "no", "n", "false", "f", "", "nein", "non", "opted out", "unsubscribed"}
CURRENCY_SIGNS = {"€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY", "₹": "INR", "fr": "CHF"}


class ValueProblem(ValueError):
    """A cell that cannot be read; the message says what is wrong with it."""


class AmbiguousDate(ValueProblem):
    pass


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 70 else 1900
    return year


def _serial(number: float) -> dt.datetime:
    if not SERIAL_RANGE[0] <= number <= SERIAL_RANGE[1]:
        raise ValueProblem(f"“{number:g}” is not a date")
    return EXCEL_EPOCH + dt.timedelta(days=float(number))


def _build(year: int, month: int, day: int, time: tuple[int, int, int] | None) -> dt.datetime:
    try:
        return dt.datetime(year, month, day, *(time or (0, 0, 0)))
    except ValueError as exc:
        raise ValueProblem("is not a real date") from exc


def date_reading(text: str) -> str:
    """'dmy', 'mdy', 'either' (both orders give a date) or '' (not a d/m/y-style date)."""
    match = _NUMERIC.fullmatch(text.strip())
    if not match:
        return ""
    a, b = int(match.group(1)), int(match.group(2))
    dmy = 1 <= a <= 31 and 1 <= b <= 12
    mdy = 1 <= a <= 12 and 1 <= b <= 31
    if dmy and mdy:
        return "dmy" if a == b else "either"
    return "dmy" if dmy else "mdy" if mdy else ""


def parse_datetime(value: Any, *, order: str = "") -> dt.datetime:
    """A timezone-aware datetime from a cell; naive values are in the workspace time zone."""
    if isinstance(value, dt.datetime):
        naive = value
    elif isinstance(value, dt.date):
        naive = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        naive = _serial(value)
    else:
        naive = _parse_text(str(value).strip(), order)
    if timezone.is_naive(naive):
        return timezone.make_aware(naive)
    return naive


def parse_date(value: Any, *, order: str = "") -> dt.date:
    return parse_datetime(value, order=order).date()


def _parse_text(text: str, order: str) -> dt.datetime:
    if not text:
        raise ValueProblem("is empty")
    iso = _ISO.fullmatch(text)
    if iso:
        return _iso(text, iso)
    numeric = _NUMERIC.fullmatch(text)
    if numeric:
        return _numeric(text, numeric, order)
    if re.fullmatch(r"\d+(\.\d+)?", text):
        number = float(text)
        if TEXT_SERIAL_RANGE[0] <= number <= TEXT_SERIAL_RANGE[1]:
            return _serial(number)
    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text.replace(",", " "))
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    for fmt in _WORDS:
        try:
            return dt.datetime.strptime(cleaned, fmt)
        except ValueError:
            continue
    raise ValueProblem(f"“{text}” is not a date (use e.g. 2024-03-31 or 31/03/2024)")


def _iso(text: str, match: re.Match[str]) -> dt.datetime:
    if match.group(7) or "T" in text:
        try:
            value = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("/", "-"))
        except ValueError:
            value = None
        if value is not None:
            return value
    parts = [int(g) if g else 0 for g in match.groups()[:6]]
    try:
        return _build(parts[0], parts[1], parts[2], (parts[3], parts[4], parts[5]))
    except ValueProblem as exc:
        raise ValueProblem(f"“{text}” is not a real date") from exc


def _numeric(text: str, match: re.Match[str], order: str) -> dt.datetime:
    reading = date_reading(text)
    if reading == "either":
        if order not in DATE_ORDERS:
            raise AmbiguousDate(
                f"“{text}” could be day-first or month-first; choose the date order"
            )
        reading = order
    elif not reading:
        raise ValueProblem(f"“{text}” is not a real date")
    elif order in DATE_ORDERS and reading != order:
        expected = "day/month/year" if order == "dmy" else "month/day/year"
        raise ValueProblem(f"“{text}” is not a {expected} date")
    a, b, year = int(match.group(1)), int(match.group(2)), _year(match.group(3))
    day, month = (a, b) if reading == "dmy" else (b, a)
    hour, minute, second = (int(match.group(i) or 0) for i in (4, 5, 6))
    meridiem = (match.group(7) or "").lower()
    if meridiem == "pm" and hour < 12:
        hour += 12
    elif meridiem == "am" and hour == 12:
        hour = 0
    try:
        return _build(year, month, day, (hour, minute, second))
    except ValueProblem as exc:
        raise ValueProblem(f"“{text}” is not a real date") from exc


@dataclass(frozen=True)
class DateColumnReport:
    """What the values of one date column say about its order."""

    order: str  # 'dmy' / 'mdy' when some value settles it, '' otherwise
    ambiguous: int  # values that read both ways
    conflicting: bool  # some values are only day-first, others only month-first
    example: str = ""


def analyse_dates(values: Iterable[Any]) -> DateColumnReport:
    """Look at a column's values: is its date order settled, open, or contradictory?"""
    seen = {"dmy": 0, "mdy": 0, "either": 0}
    example = ""
    for value in values:
        if not isinstance(value, str):
            continue
        reading = date_reading(value)
        if reading:
            seen[reading] += 1
            if reading == "either" and not example:
                example = value.strip()
    conflicting = bool(seen["dmy"] and seen["mdy"])
    order = "" if conflicting else "dmy" if seen["dmy"] else "mdy" if seen["mdy"] else ""
    return DateColumnReport(order, seen["either"], conflicting, example)


def parse_decimal(value: Any) -> Decimal:
    """An amount: 1234.5, '1,234.50', '1.234,50', '€ 1 200', '$1,200' (never a float)."""
    if isinstance(value, bool):
        raise ValueProblem(f"“{value}” is not an amount")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    text = re.sub(r"[\s\u00a0\u202f']", "", str(value))
    text = re.sub(r"^[A-Za-z€$£¥₹]+|[A-Za-z€$£¥₹]+$", "", text)
    negative = text.startswith("-") or (text.startswith("(") and text.endswith(")"))
    text = text.strip("()-+")
    if "," in text and "." in text:
        decimal_mark = "," if text.rfind(",") > text.rfind(".") else "."
        text = text.replace("." if decimal_mark == "," else ",", "").replace(",", ".")
    elif "," in text:
        # 1,234 and 1,234,567 are thousands; 12,5 and 1234,56 use a decimal comma
        text = (
            text.replace(",", "")
            if re.fullmatch(r"\d{1,3}(,\d{3})+", text)
            else text.replace(",", ".")
        )
    elif re.fullmatch(r"\d{1,3}(\.\d{3}){2,}", text):
        text = text.replace(".", "")
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise ValueProblem(f"“{value}” is not an amount") from exc
    if not amount.is_finite():
        raise ValueProblem(f"“{value}” is not an amount")
    return -amount if negative else amount


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueProblem(f"“{value}” is not yes or no")


def parse_currency(value: Any) -> str:
    text = str(value).strip()
    code = CURRENCY_SIGNS.get(text.lower(), text.upper())
    if code not in CURRENCY_CODES:
        raise ValueProblem(f"“{text}” is not a known currency code")
    return code


def cell_text(value: Any) -> str:
    """A cell as the text a person would see in it."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if value.time() != dt.time() else value.date().isoformat()
    return str(value).strip()
