"""A fast, exact path to E.164 for numbers written in international format (+49 30 …).

`normalize_phone` parses with the full phonenumbers machinery (about 40 µs a number), too slow
for a million-row import. Numbers that start with `+` and hold only digits, spaces, dots,
dashes and parentheses are resolved here against the same metadata (country code, possible
lengths, validity patterns) in a few µs; anything else, and anything where phonenumbers would
strip a national prefix or keep a leading zero, goes to `normalize_phone`. The tests compare
both on many generated numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata, PhoneNumber, is_possible_number

from closeloop.people.phones import normalize_phone

_SHAPE = re.compile(r"\+[1-9][0-9 .()\-]{2,40}[0-9]")
_NON_DIGIT = re.compile(r"[^0-9]")
_NON_GEO = "001"
_MAX_NSN = 17
_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
)


def _fits(desc: object, length: int) -> bool:
    lengths = getattr(desc, "possible_length", ())
    pattern = getattr(desc, "national_number_pattern", None)
    return bool(pattern) and (not lengths or length in lengths)


@cache
def _valid_pattern(region: str, length: int) -> re.Pattern[str] | None:
    """One pattern: the region's general pattern and at least one number type's, for `length`."""
    metadata = PhoneMetadata.metadata_for_region(region, None)
    if metadata is None or not _fits(metadata.general_desc, length):
        return None
    descs = [getattr(metadata, name, None) for name in _TYPES]
    if not metadata.same_mobile_and_fixed_line_pattern:
        descs.append(metadata.mobile)
    alternatives = "|".join(
        f"(?:{d.national_number_pattern})" for d in descs if d is not None and _fits(d, length)
    )
    if not alternatives:
        return None
    general = metadata.general_desc.national_number_pattern if metadata.general_desc else None
    if not general:
        return None
    return re.compile(f"(?=(?:{general})\\Z)(?:{alternatives})")


def _valid_for(region: str, nsn: str) -> bool:
    pattern = _valid_pattern(region, len(nsn))
    return pattern is not None and pattern.fullmatch(nsn) is not None


def _leading_digits(region: str) -> re.Pattern[str] | None:
    metadata = PhoneMetadata.metadata_for_region(region, None)
    return re.compile(metadata.leading_digits) if metadata and metadata.leading_digits else None


def _region_for(regions: tuple[tuple[str, re.Pattern[str] | None], ...], nsn: str) -> str | None:
    """Which region of a shared country code a number belongs to, as phonenumbers decides."""
    for region, leading in regions:
        if leading is not None:
            if leading.match(nsn):
                return region
        elif _valid_for(region, nsn):
            return region
    return None


@dataclass(frozen=True)
class _Plan:
    """What is fixed for one country code and national-number length."""

    possible: bool
    national_prefix: re.Pattern[str] | None
    single: re.Pattern[str] | None
    regions: tuple[tuple[str, re.Pattern[str] | None], ...]


@cache
def _plan(code: int, length: int) -> _Plan | None:
    regions = COUNTRY_CODE_TO_REGION_CODE.get(code)
    if not regions or regions[0] == _NON_GEO:
        return None
    main = PhoneMetadata.metadata_for_region(regions[0], None)
    prefix = main.national_prefix_for_parsing if main else None
    # is_possible_number depends only on the country code and the length
    sample = PhoneNumber(country_code=code, national_number=int("1" * length))
    return _Plan(
        possible=bool(is_possible_number(sample)),
        national_prefix=re.compile(prefix) if prefix else None,
        single=_valid_pattern(regions[0], length) if len(regions) == 1 else None,
        regions=tuple((r, _leading_digits(r)) for r in regions) if len(regions) > 1 else (),
    )


def normalize_phone_fast(raw: str) -> str:
    """Same result as `normalize_phone(raw)`, quickly for the common international format."""
    text = raw.strip() if raw else ""
    if text[:2] == "00":
        text = "+" + text[2:]
    if not _SHAPE.fullmatch(text):
        return normalize_phone(raw)
    digits = (
        text.replace(" ", "").replace("-", "").replace(".", "").replace("(", "").replace(")", "")
    )[1:]
    if len(digits) <= 3 or len(digits) > 20:
        return normalize_phone(raw)
    for size in (1, 2, 3):
        if int(digits[:size]) in COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return ""
    code, nsn = int(digits[:size]), digits[size:]
    plan = _plan(code, len(nsn))
    if plan is None or nsn[0] == "0" or len(nsn) < 2:
        return normalize_phone(raw)
    if plan.national_prefix is not None and plan.national_prefix.match(nsn):
        return normalize_phone(raw)  # phonenumbers may strip a national prefix here
    if len(nsn) > _MAX_NSN or not plan.possible:
        return ""
    if plan.single is not None or not plan.regions:
        valid = plan.single is not None and plan.single.fullmatch(nsn) is not None
    else:
        region = _region_for(plan.regions, nsn)
        valid = region is not None and _valid_for(region, nsn)
    return f"+{digits}" if valid else ""
