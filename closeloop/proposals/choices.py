from django.db import models


class Billing(models.TextChoices):
    """How often a line is charged; recurring and one-off totals are kept apart."""

    ONE_OFF = "one_off", "One-off"
    MONTHLY = "monthly", "Monthly"
    YEARLY = "yearly", "Yearly"


class DiscountKind(models.TextChoices):
    PERCENT = "percent", "%"
    AMOUNT = "amount", "Amount"


class PaymentTermsKind(models.TextChoices):
    NET = "net", "Net days"
    INSTALMENTS = "instalments", "Instalments"


class ProposalStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENT = "sent", "Sent"
    CHANGES_REQUESTED = "changes", "Changes requested"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"


class ApprovalState(models.TextChoices):
    """Whether the proposal's discounts need, await or have a manager's approval."""

    NOT_NEEDED = "", "Not needed"
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    # a request the proposal has changed since: it approves nothing any more
    OUTDATED = "outdated", "Outdated (the proposal changed)"


class ResponseKind(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    CHANGES_REQUESTED = "changes", "Asked for changes"
