"""Writes of booking links: page settings (pages.py) and visitors' bookings (bookings.py)."""

from .bookings import (
    SlotTaken,
    TokenExpired,
    TokenInvalid,
    Visitor,
    booking_cancel,
    booking_create,
    booking_for_token,
    booking_reschedule,
    booking_source,
    booking_token,
    visitor_clean,
)
from .pages import MeetingTypeInput, availability_set, booking_page_save, meeting_type_save

__all__ = [
    "MeetingTypeInput",
    "SlotTaken",
    "TokenExpired",
    "TokenInvalid",
    "Visitor",
    "availability_set",
    "booking_cancel",
    "booking_create",
    "booking_for_token",
    "booking_page_save",
    "booking_reschedule",
    "booking_source",
    "booking_token",
    "meeting_type_save",
    "visitor_clean",
]
