"""Forms of the catalogue, the templates and the proposal editor.

Rows (lines, instalments, delivery milestones) come as parallel lists: each row's inputs share a
name (`line_name`, `line_quantity`…), so adding or removing a row in the page needs no renumbering.
Every row has every input (no checkboxes), so the lists stay aligned.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.http import QueryDict

from closeloop.accounts.choices import Role
from closeloop.core.exceptions import DomainError
from closeloop.core.money import CURRENCY_CODES

from .choices import Billing, DiscountKind, PaymentTermsKind
from .models import LineFields, Product, ProposalTerms
from .services import LineIn
from .services.lines import LINE_FIELDS, line_json

# every stored line field but its position, which is the row's place in the form
LINE_INPUTS = tuple(name for name in LINE_FIELDS if name != "position")
INSTALMENT_INPUTS = ("label", "percent", "due")
DELIVERY_INPUTS = ("label", "date", "offset_days")
# a row whose inputs here are all empty was added and never filled: it is left out
LINE_KEYS = ("product", "name", "description", "unit_price")
CURRENCY_CHOICES = [(code, code) for code in sorted(CURRENCY_CODES)]
ROW_FIELDS = ("lines", "instalments", "delivery")


def post_rows(
    data: QueryDict, prefix: str, inputs: Sequence[str], keys: Sequence[str] | None = None
) -> list[dict[str, str]]:
    """The rows posted under `<prefix>_<input>` names, blank rows left out."""
    columns = [data.getlist(f"{prefix}_{name}") for name in inputs]
    count = max((len(c) for c in columns), default=0)
    rows = []
    for i in range(count):
        row = {
            name: (col[i] if i < len(col) else "").strip()
            for name, col in zip(inputs, columns, strict=True)
        }
        if any(row[k] for k in (keys or inputs) if k in row):
            rows.append(row)
    return rows


def line_rows(lines: Iterable[LineFields]) -> list[dict[str, str]]:
    """Stored lines as the editor's rows (numbers written as a version keeps them)."""
    rows = []
    for line in lines:
        data = line_json(line)
        data["product"] = data.pop("product_id") or ""
        rows.append({name: str(data[name]) for name in LINE_INPUTS})
    return rows


def lines_in(rows: Sequence[dict[str, str]], products: dict[int, Product]) -> list[LineIn]:
    """The editor's rows as lines for the services; a product must be one offered."""
    lines = []
    for position, row in enumerate(rows, start=1):
        product = None
        if row.get("product"):
            pk = int(row["product"]) if row["product"].isdigit() else 0
            product = products.get(pk)
            if product is None:
                raise DomainError(
                    f"Line {position}: choose a product from the list.", field="lines"
                )
        lines.append(
            LineIn(
                name=row.get("name", ""),
                product=product,
                description=row.get("description", ""),
                quantity=row.get("quantity") or "1",
                unit=row.get("unit", ""),
                unit_price=row.get("unit_price") or None,
                discount_kind=row.get("discount_kind") or DiscountKind.PERCENT,
                discount_value=row.get("discount_value") or "0",
                tax_rate=row.get("tax_rate") or None,
                billing=row.get("billing", ""),
            )
        )
    return lines


def product_ids(rows: Sequence[dict[str, str]]) -> set[int]:
    return {int(r["product"]) for r in rows if r.get("product", "").isdigit()}


class RowsPosted:
    """The rows of one posted editor form (or of a stored template/proposal), to show again."""

    def __init__(
        self,
        lines: list[dict[str, str]],
        instalments: list[dict[str, str]],
        delivery: list[dict[str, str]],
    ) -> None:
        self.lines = lines
        self.instalments = instalments
        self.delivery = delivery

    @classmethod
    def from_post(cls, data: QueryDict) -> RowsPosted:
        return cls(
            lines=post_rows(data, "line", LINE_INPUTS, LINE_KEYS),
            instalments=post_rows(data, "inst", INSTALMENT_INPUTS, ("label", "percent")),
            delivery=post_rows(data, "dlv", DELIVERY_INPUTS),
        )

    @classmethod
    def from_stored(cls, source: ProposalTerms, lines: Iterable[LineFields]) -> RowsPosted:
        return cls(
            lines=line_rows(lines),
            instalments=[
                {name: str(row.get(name, "")) for name in INSTALMENT_INPUTS}
                for row in source.instalments
            ],
            delivery=[
                {name: str(row.get(name, "")) for name in DELIVERY_INPUTS}
                for row in source.delivery
            ],
        )

    def terms(self, payment_terms: str) -> dict[str, Any]:
        """Instalments and delivery rows for `terms_apply`; net days drop the instalments."""
        delivery = [
            {"label": r["label"], "date": r["date"]}
            if r["date"]
            else {"label": r["label"], "offset_days": r["offset_days"]}
            for r in self.delivery
        ]
        instalments = [] if payment_terms == PaymentTermsKind.NET else list(self.instalments)
        return {"instalments": instalments, "delivery": delivery}


class TermsForm(forms.Form):
    """What templates and proposals both say besides their lines (rows come apart)."""

    intro = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}), label="Introduction"
    )
    closing = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    payment_terms = forms.ChoiceField(choices=PaymentTermsKind.choices)
    net_days = forms.IntegerField(min_value=0, max_value=3650, initial=30, label="Net days")
    validity_days = forms.IntegerField(
        min_value=0, max_value=3650, initial=30, label="Valid for (days)"
    )
    terms_conditions = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 5}), label="Terms and conditions"
    )

    TERMS = ("intro", "closing", "payment_terms", "net_days", "validity_days", "terms_conditions")

    def terms_initial(self, source: ProposalTerms) -> None:
        for name in self.TERMS:
            self.initial[name] = getattr(source, name)

    def domain_error(self, error: DomainError) -> dict[str, str]:
        """Show a service's error on its field; a row error is returned for its section
        (`lines`, `instalments` or `delivery`)."""
        if error.field in ROW_FIELDS:
            return {error.field: error.message}
        self.add_error(error.field if error.field in self.fields else None, error.message)
        return {}


class TemplateForm(TermsForm):
    name = forms.CharField(max_length=120)
    currency = forms.ChoiceField(choices=CURRENCY_CHOICES, initial="EUR")
    is_active = forms.BooleanField(required=False, initial=True, label="Active (offered)")

    field_order = ["name", "currency", "is_active"]


class ProposalForm(TermsForm):
    title = forms.CharField(max_length=200)

    field_order = ["title"]


class ProductForm(forms.Form):
    name = forms.CharField(max_length=200)
    sku = forms.CharField(max_length=64, required=False, label="SKU")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    unit = forms.CharField(max_length=30, initial="piece")
    unit_price = forms.DecimalField(min_value=0, max_digits=16, decimal_places=4)
    currency = forms.ChoiceField(choices=CURRENCY_CHOICES, initial="EUR")
    tax_rate = forms.DecimalField(
        min_value=0, max_value=100, max_digits=5, decimal_places=2, initial=0, label="Tax rate %"
    )
    floor_price = forms.DecimalField(
        min_value=0,
        max_digits=16,
        decimal_places=4,
        required=False,
        help_text="The least it may be sold for a unit without a manager's approval.",
    )
    billing = forms.ChoiceField(choices=Billing.choices)
    is_active = forms.BooleanField(required=False, initial=True, label="Active (offered)")


class DiscountLimitsForm(forms.Form):
    """One optional percentage per role; empty means that role may give any discount."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for role, label in Role.choices:
            self.fields[role] = forms.DecimalField(
                label=f"{label}: largest discount %",
                required=False,
                min_value=0,
                max_value=100,
                max_digits=5,
                decimal_places=2,
                help_text="Empty: no limit.",
            )


class StartForm(forms.Form):
    """The picker's choice: `template:<pk>`, `proposal:<pk>` or `blank`."""

    start = forms.CharField()
    title = forms.CharField(max_length=200, required=False)


class BrandingForm(forms.Form):
    company_details = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 5}),
        label="Company details",
        help_text="Address, tax number, registration, bank account: shown under your company "
        "name on every proposal and its PDF.",
    )  # fmt: skip
    logo = forms.FileField(
        required=False, help_text="PNG or JPEG, at most 512 KB; shown at the top of proposals."
    )
    remove_logo = forms.BooleanField(required=False, label="Remove the logo")
