from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from closeloop.accounts.visibility import VisibleQuerySet
from closeloop.core.models import StoredFile, TimestampedModel

from .choices import (
    ApprovalState,
    Billing,
    DiscountKind,
    PaymentTermsKind,
    ProposalStatus,
    ResponseKind,
)


class Product(TimestampedModel):
    """Something the business sells, at a list price; a floor price is the least it may go for."""

    name = models.CharField(max_length=200)
    sku = models.CharField("SKU", max_length=64, blank=True)
    description = models.TextField(blank=True)
    unit = models.CharField(max_length=30, default="piece")
    unit_price = models.DecimalField(max_digits=16, decimal_places=4)
    currency = models.CharField(max_length=3)
    tax_rate = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    floor_price = models.DecimalField(max_digits=16, decimal_places=4, null=True, blank=True)
    billing = models.CharField(max_length=8, choices=Billing.choices, default=Billing.ONE_OFF)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["sku"], condition=~models.Q(sku=""), name="product_sku_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})" if self.sku else self.name


class Material(StoredFile):
    """An uploaded document sent along with proposals: a spec sheet, an installation guide."""

    file = models.FileField(upload_to="proposals/materials/%Y/%m/")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(StoredFile.Meta):
        pass


class ProposalTerms(models.Model):
    """What a template and a proposal both say besides their lines: texts, payment terms,
    delivery schedule, validity and conditions.

    `instalments`: [{"label", "percent", "due"}] where due is "acceptance", a date
    (YYYY-MM-DD) or a delivery milestone's label; the percentages add up to 100.
    `delivery`: [{"label", "date"} or {"label", "offset_days"}] (days after acceptance).
    """

    intro = models.TextField(blank=True)
    closing = models.TextField(blank=True)
    payment_terms = models.CharField(
        max_length=12, choices=PaymentTermsKind.choices, default=PaymentTermsKind.NET
    )
    net_days = models.PositiveSmallIntegerField(default=30)
    instalments = models.JSONField(default=list, blank=True)
    delivery = models.JSONField(default=list, blank=True)
    validity_days = models.PositiveSmallIntegerField(default=30)
    terms_conditions = models.TextField(blank=True)

    class Meta:
        abstract = True


class ProposalTemplate(TimestampedModel, ProposalTerms):
    """A reusable starting point: texts with merge fields, default lines, terms and materials."""

    name = models.CharField(max_length=120, unique=True)
    currency = models.CharField(max_length=3, help_text="the currency of its default lines")
    is_active = models.BooleanField(default=True)
    materials = models.ManyToManyField(Material, blank=True, related_name="templates")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class LineFields(models.Model):
    """A priced line: a product or free text, quantity, unit price, discount, tax and billing."""

    position = models.PositiveIntegerField(default=0)
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    quantity = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("1"))
    unit = models.CharField(max_length=30, blank=True)
    unit_price = models.DecimalField(max_digits=16, decimal_places=4, default=Decimal("0"))
    discount_kind = models.CharField(
        max_length=8, choices=DiscountKind.choices, default=DiscountKind.PERCENT
    )
    discount_value = models.DecimalField(max_digits=16, decimal_places=4, default=Decimal("0"))
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))
    billing = models.CharField(max_length=8, choices=Billing.choices, default=Billing.ONE_OFF)

    class Meta:
        abstract = True
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name


class TemplateLine(LineFields):
    """A line a template puts on every proposal started from it."""

    template = models.ForeignKey(ProposalTemplate, on_delete=models.CASCADE, related_name="lines")

    class Meta(LineFields.Meta):
        pass


class ProposalQuerySet(VisibleQuerySet):
    owner_field = "deal__owner"


class Proposal(TimestampedModel, ProposalTerms):
    """What the customer is offered on a deal. Sending freezes a version; later edits make the
    next one. Seen by whoever may see its deal."""

    deal = models.ForeignKey("pipeline.Deal", on_delete=models.CASCADE, related_name="proposals")
    title = models.CharField(max_length=200)
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=8, choices=ProposalStatus.choices, default=ProposalStatus.DRAFT, db_index=True
    )
    template = models.ForeignKey(
        ProposalTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    based_on = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    materials = models.ManyToManyField(Material, blank=True, related_name="proposals")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # the number of the last frozen version (0 while never sent) and whether the lines have
    # changed since: an edit after sending becomes the next version when it is sent
    version_count = models.PositiveIntegerField(default=0)
    approval = models.CharField(
        max_length=8, choices=ApprovalState.choices, default=ApprovalState.NOT_NEEDED, blank=True
    )
    # bumped by every write, so an edit based on a stale copy is refused
    version = models.PositiveIntegerField(default=1)

    objects = ProposalQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.title


class LineItem(LineFields):
    """One priced line of a proposal (the live draft; a sent version keeps its own copy)."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="lines")

    class Meta(LineFields.Meta):
        pass


class ProposalVersion(models.Model):
    """A sent proposal, frozen: everything it said (lines, totals, terms) and its PDF."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    snapshot = models.JSONField()
    pdf = models.FileField(upload_to="proposals/pdf/%Y/%m/", blank=True)
    note = models.TextField(blank=True, help_text="the negotiation behind this version")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    valid_until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["proposal", "number"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "number"], name="proposal_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.proposal} v{self.number}"


class Branding(models.Model):
    """What every proposal says about the seller: the logo and company details (address, tax
    number, bank account…). One row; a sent version keeps its own copy."""

    company_details = models.TextField(blank=True)
    logo = models.FileField(upload_to="proposals/logo/%Y/%m/", blank=True)
    logo_type = models.CharField(max_length=20, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "Proposal branding"


class DiscountLimit(models.Model):
    """The largest discount a role may give without a manager's approval (none: no limit)."""

    role = models.CharField(max_length=10, unique=True)
    max_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.role}: {self.max_percent}"


class DiscountApproval(TimestampedModel):
    """A request to send a proposal beyond the discount limits, and a manager's decision.

    It approves the lines as they were when asked (`fingerprint`); changing them needs a new one.
    """

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="approvals")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField()
    problems = models.JSONField(default=list)
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(
        max_length=8, choices=ApprovalState.choices, default=ApprovalState.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Approval for {self.proposal_id}: {self.state}"


class ProposalResponse(models.Model):
    """The customer's answer to one version: accepted (typed name, consent), declined or a
    change request, with when and from where."""

    version = models.ForeignKey(ProposalVersion, on_delete=models.CASCADE, related_name="responses")
    kind = models.CharField(max_length=8, choices=ResponseKind.choices)
    name = models.CharField(max_length=200, blank=True)
    comment = models.TextField(blank=True)
    consent = models.BooleanField(default=False)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.version}"
