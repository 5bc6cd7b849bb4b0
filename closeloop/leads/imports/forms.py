"""Forms of the import pages: the upload, and the mapping screen built from the file's columns."""

from __future__ import annotations

from typing import Any

from django import forms

from ..choices import ImportKind, ImportMode
from .mapping import MATCH_FIELDS, fields_for
from .resolvers import EMPTY
from .selectors import ColumnSample, ValueChoice

DATE_ORDER_CHOICES = [
    ("", "— not needed / not chosen —"),
    ("dmy", "Day first: 31/01/2024 (Europe and most of the world)"),
    ("mdy", "Month first: 01/31/2024 (USA)"),
]


class UploadForm(forms.Form):
    kind = forms.ChoiceField(choices=ImportKind.choices, label="What the file holds")
    file = forms.FileField(
        label="CSV or XLSX file",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,.xlsx"}),
        allow_empty_file=True,  # an empty file gets the service's own, clearer message
    )


class MappingForm(forms.Form):
    """One select per column, the import mode and match key, date order, value mappings."""

    mode = forms.ChoiceField(choices=ImportMode.choices)
    match_on = forms.ChoiceField(label="Match existing records on")
    date_order = forms.ChoiceField(choices=DATE_ORDER_CHOICES, required=False)
    mapping_name = forms.CharField(
        max_length=100, required=False, label="Save this mapping as (optional)"
    )

    def __init__(
        self,
        *args: Any,
        kind: str,
        columns: list[ColumnSample],
        values: list[ValueChoice],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.columns, self.values = columns, values
        self.fields["match_on"].choices = [(m, m.replace("_", " ")) for m in MATCH_FIELDS[kind]]
        targets = [("", "— ignore this column —")] + [(f.name, f.label) for f in fields_for(kind)]
        for i, column in enumerate(columns):
            self.fields[f"col_{i}"] = forms.ChoiceField(
                choices=targets, required=False, label=column.header, initial=column.field
            )
        for i, value in enumerate(values):
            options = [("", "(match automatically)"), (EMPTY, "(leave empty)"), *value.options]
            self.fields[f"val_{i}"] = forms.ChoiceField(
                choices=options, required=False, label=value.value, initial=value.chosen
            )

    def column_fields(self) -> list[tuple[ColumnSample, forms.BoundField]]:
        return [(c, self[f"col_{i}"]) for i, c in enumerate(self.columns)]

    def value_fields(self) -> list[tuple[ValueChoice, forms.BoundField]]:
        return [(v, self[f"val_{i}"]) for i, v in enumerate(self.values)]

    def mapping(self) -> dict[str, str]:
        return {
            c.header: self.cleaned_data.get(f"col_{i}") or "" for i, c in enumerate(self.columns)
        }

    def value_mapping(self) -> dict[str, dict[str, str]]:
        result: dict[str, dict[str, str]] = {}
        for i, value in enumerate(self.values):
            chosen = self.cleaned_data.get(f"val_{i}") or ""
            if chosen:
                result.setdefault(value.field, {})[value.value] = chosen
        return result
