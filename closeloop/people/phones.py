"""Phone numbers are normalised to E.164 where they parse; the raw text is kept otherwise."""

from __future__ import annotations

import phonenumbers
from django.conf import settings


def normalize_phone(raw: str, region: str | None = None) -> str:
    """'+49 30 1234567' -> '+49301234567'; '' when the number cannot be parsed as valid."""
    text = (raw or "").strip()
    if not text:
        return ""
    region = (region or settings.PHONE_REGION or "").upper() or None
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(number):
        return ""
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
