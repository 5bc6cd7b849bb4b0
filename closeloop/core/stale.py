"""A refused stale edit, on the page: the form comes back with the user's own input kept, the
changes the others made since listed (“Anna changed Phone from … to … at 10:42”), and the
version it now carries, so saving again applies the user's changes on top of theirs.

Fields the user left as they were take the others' new values (saving again must not undo
their change); fields both changed keep the user's value and are marked, for them to decide.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.http import QueryDict

from .exceptions import StaleEditError
from .models import audit_value_shown
from .versions import OtherChange, comparable, original_values


@dataclass(frozen=True)
class FieldGroup:
    """One audited value as the form holds it: which posted keys carry it, the user's value
    (comparable with the audit log's), and the stored value as form data (key → value)."""

    owns: Callable[[str], bool]
    posted: Any
    current: dict[str, Any]


@dataclass
class StaleEdit:
    """What the refused page shows above the form."""

    changes: list[OtherChange]
    version: int
    clashes: dict[str, OtherChange] = field(default_factory=dict)
    taken: list[str] = field(default_factory=list)


def as_form_data(value: Any) -> list[str]:
    """A form value (as BoundField.value() gives it) as the strings a browser would post."""
    if value is None:
        return [""]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [str(value)]


def simple_groups(
    form: forms.Form, fresh: forms.Form, names: Iterable[str]
) -> dict[str, FieldGroup]:
    """Groups for fields that are one input each and named like the record's field: `form`
    is the user's (valid) form, `fresh` an unbound one showing the record as stored."""
    groups = {}
    for name in names:
        key = form[name].html_name
        groups[name] = FieldGroup(
            owns=lambda posted_key, key=key: posted_key == key,  # type: ignore[misc]
            posted=comparable(form.cleaned_data.get(name)),
            current={key: fresh[name].value()},
        )
    return groups


def stale_rebind(
    data: QueryDict,
    *,
    error: StaleEditError,
    groups: dict[str, FieldGroup],
    version_key: str = "version",
) -> tuple[QueryDict, StaleEdit]:
    """The posted data to show again, and what to say about it (see the module docstring)."""
    originals = original_values(error.changes)
    latest = {change.field: change for change in error.changes if change.field}
    merged = data.copy()
    stale = StaleEdit(changes=error.changes, version=error.record.version)
    for name, group in groups.items():
        if name not in originals:
            continue
        if group.posted == comparable(originals[name]):
            for key in [k for k in merged if group.owns(k)]:
                del merged[key]
            for key, value in group.current.items():
                merged.setlist(key, as_form_data(value))
            stale.taken.append(latest[name].label)
        elif group.posted != comparable(latest[name].after):
            stale.clashes[name] = latest[name]
    merged[version_key] = str(error.record.version)
    return merged, stale


def stale_mark(form: forms.Form, stale: StaleEdit) -> None:
    """Put a note on each field both people changed (the form is validated for that)."""
    form.is_valid()
    for name, change in stale.clashes.items():
        note = (
            f"{change.who} changed this to “{audit_value_shown(change.after)}” {change.when}; "
            "your value is kept. Check it before you save."
        )
        form.add_error(name if name in form.fields else None, note)
