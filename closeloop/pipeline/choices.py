from django.db import models


class DealStatus(models.TextChoices):
    OPEN = "open", "Open"
    WON = "won", "Won"
    LOST = "lost", "Lost"


DEFAULT_LOST_REASONS = [
    "Price",
    "Competitor",
    "No budget",
    "Missing features",
    "No decision-maker",
    "Unresponsive",
    "Poor fit",
    "Timing",
    "Other",
]

# (name, win probability %, days to rot, optional) — leads carry prospecting and qualification.
DEFAULT_STAGES = [
    ("Demo / meeting", 20, 14, True),
    ("Proposal", 50, 21, False),
    ("Negotiation / commitment", 80, 14, False),
]
