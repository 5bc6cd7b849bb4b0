from django.db import models


class DeliveryState(models.TextChoices):
    """Where one event's delivery to one subscription stands."""

    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Given up"
