"""Which file column goes to which field: the fields each import kind has, the column names
HubSpot, Pipedrive, Salesforce, Zoho and our own exports use for them, and mapping files.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from closeloop.core.exceptions import DomainError

from ..choices import ImportKind, ImportMode


@dataclass(frozen=True)
class FieldSpec:
    """A field an import can fill: its name, label and how its text is read."""

    name: str
    label: str
    type: str = "text"  # text, email, phone, date, datetime, decimal, bool, choice, id
    names: tuple[str, ...] = ()  # column names (normalised) recognised for it


def _f(name: str, label: str, type_: str = "text", *names: str) -> FieldSpec:
    return FieldSpec(name, label, type_, (name.replace("_", " "), *names))


def _more(spec: FieldSpec, *names: str) -> FieldSpec:
    return FieldSpec(spec.name, spec.label, spec.type, (*spec.names, *names))


PERSON = [
    _f("first_name", "First name", "text", "firstname", "given name", "first", "vorname"),
    _f("last_name", "Last name", "text", "lastname", "surname", "family name", "last", "nachname"),
    _f("full_name", "Full name", "text", "name", "contact name", "lead name", "person name",
       "person", "contact"),
]  # fmt: skip
OWNER = _f("owner", "Owner", "choice", "owner name", "owner email", "record owner", "assigned to",
           "sales rep", "owner full name", "user")  # fmt: skip
EXTERNAL = _f("external_id", "ID in the other system", "text", "record id", "external id", "crm id")
OUR_ID = _f("id", "Closeloop ID", "id", "closeloop id")

FIELDS: dict[str, list[FieldSpec]] = {
    ImportKind.LEADS: [
        *PERSON,
        _f("email", "Email", "email", "e mail", "email address", "work email", "primary email",
           "emails", "business email"),
        _f("phone", "Phone", "phone", "phone number", "telephone", "work phone", "mobile",
           "mobile phone", "mobile phone number", "cell", "phones", "business phone", "telefon"),
        _f("job_title", "Job title", "text", "title", "designation", "position", "role"),
        _f("company_name", "Company", "text", "company", "organization", "organisation",
           "organization name", "account name", "account", "employer", "company name",
           "firma", "unternehmen"),
        _f("company_domain", "Company domain", "text", "company domain name", "domain",
           "email domain"),
        _f("website", "Website", "text", "website url", "web site", "url", "homepage"),
        _f("company_size", "Company size", "text", "number of employees", "no of employees",
           "employees", "size", "company size"),
        _f("industry", "Industry", "text"),
        _f("country", "Country (2-letter code)", "text", "country code", "country region"),
        _f("status", "Status", "choice", "lead status", "status"),
        _f("source", "Source", "choice", "lead source", "original source", "source",
           "original source type", "channel"),
        _f("campaign", "Campaign", "choice", "campaign name"),
        _more(OWNER, "lead owner", "contact owner"),
        _f("utm_source", "UTM source", "text"),
        _f("utm_medium", "UTM medium", "text"),
        _f("utm_campaign", "UTM campaign", "text"),
        _f("utm_term", "UTM term", "text"),
        _f("utm_content", "UTM content", "text"),
        _f("marketing_consent", "Marketing consent", "bool", "consent", "email opt in", "opt in",
           "marketing opt in"),
        _f("consent_method", "Consent given how", "text"),
        _f("notes", "Notes", "text", "note", "description", "comments", "comment"),
        _more(EXTERNAL, "lead id", "contact id", "person id"),
        OUR_ID,
    ],
    ImportKind.ORGANIZATIONS: [
        _f("name", "Name", "text", "company name", "organization name", "organisation name",
           "account name", "company", "organization", "organisation", "account"),
        _f("domain", "Domain", "text", "company domain name", "website domain"),
        _f("website", "Website", "text", "website url", "web site", "url", "homepage"),
        _f("phone", "Phone", "text", "phone number", "company phone", "telephone"),
        _f("address", "Address", "text", "street address", "billing address", "street",
           "full address", "billing street"),
        _f("industry", "Industry", "text"),
        _f("size", "Size", "text", "number of employees", "no of employees", "employees",
           "company size"),
        _f("notes", "Notes", "text", "note", "description", "comments"),
        _more(OWNER, "company owner", "account owner", "organization owner"),
        _more(EXTERNAL, "account id", "company id", "organization id"),
        OUR_ID,
    ],
    ImportKind.CONTACTS: [
        *PERSON,
        _f("email", "Email", "email", "e mail", "email address", "work email", "primary email",
           "emails", "business email"),
        _f("phone", "Phone", "text", "phone number", "telephone", "work phone", "phones",
           "business phone"),
        _f("mobile", "Mobile", "text", "mobile phone", "mobile phone number", "cell",
           "cell phone"),
        _f("job_title", "Job title", "text", "title", "designation", "position", "role"),
        _f("organization", "Organization", "text", "company", "company name", "organisation",
           "organization name", "account name", "account", "associated company"),
        _f("notes", "Notes", "text", "note", "description", "comments"),
        _more(OWNER, "contact owner", "person owner"),
        _more(EXTERNAL, "contact id", "person id"),
        OUR_ID,
    ],
    ImportKind.DEALS: [
        _f("title", "Title", "text", "deal name", "deal title", "opportunity name", "deal",
           "name", "subject"),
        _f("pipeline", "Pipeline", "choice", "deal pipeline", "sales pipeline"),
        _f("stage", "Stage", "choice", "deal stage", "stage name", "sales stage"),
        _f("status", "Status", "choice", "deal status"),
        _more(OWNER, "deal owner", "opportunity owner"),
        _f("value", "Value", "decimal", "amount", "deal value", "deal amount",
           "opportunity amount", "total"),
        _f("currency", "Currency", "choice", "deal currency", "currency code", "currency iso code"),
        _f("expected_close_date", "Expected close date", "date", "expected closing date"),
        _f("close_date", "Close date (expected or actual)", "date", "closing date", "closed date",
           "close time"),
        _f("created_at", "Created", "datetime", "create date", "created", "created date",
           "deal created", "created time", "created on", "add time", "deal created on"),
        _f("won_at", "Won date", "datetime", "won time", "won date", "date won", "won on",
           "closed won date"),
        _f("lost_at", "Lost date", "datetime", "lost time", "lost date", "date lost", "lost on",
           "closed lost date"),
        _f("lost_reason", "Lost reason", "choice", "closed lost reason", "loss reason",
           "reason for loss", "reason lost"),
        _f("competitor", "Competitor", "text", "lost to", "competitor name"),
        _f("source", "Source", "choice", "deal source", "lead source", "original source",
           "channel"),
        _f("campaign", "Campaign", "choice", "campaign name", "deal campaign"),
        _f("lost_note", "Lost note", "text", "lost comment", "closed lost note"),
        _f("organization", "Organization", "text", "company", "company name", "organisation",
           "organization name", "account name", "account", "associated company"),
        _f("contact_email", "Contact email", "email", "person email", "contact person email",
           "associated contact email"),
        _f("contact_name", "Contact name", "text", "contact person", "person name", "contact",
           "person", "associated contact"),
        _more(EXTERNAL, "deal id", "opportunity id"),
        OUR_ID,
    ],
}  # fmt: skip

# Pipedrive writes "Deal - Title", "Person - Email"; the part before " - " names the record.
OWN_ENTITIES: dict[str, set[str]] = {
    ImportKind.LEADS: {"lead", "person", "contact"},
    ImportKind.ORGANIZATIONS: {"organization", "organisation", "account", "company"},
    ImportKind.CONTACTS: {"person", "contact"},
    ImportKind.DEALS: {"deal", "opportunity"},
}
ORG_ENTITIES = {"organization", "organisation", "account", "company"}
ORG_FIELD: dict[str, str] = {
    ImportKind.LEADS: "company_name",
    ImportKind.CONTACTS: "organization",
    ImportKind.DEALS: "organization",
}
REQUIRED: dict[str, tuple[set[str], str]] = {
    ImportKind.LEADS: (
        {"first_name", "last_name", "full_name", "email", "phone", "company_name"},
        "a name, email, phone or company column",
    ),
    ImportKind.ORGANIZATIONS: ({"name"}, "a name column"),
    ImportKind.CONTACTS: (
        {"first_name", "last_name", "full_name", "email"},
        "a name or email column",
    ),
    ImportKind.DEALS: ({"title"}, "a title (deal name) column"),
}
MATCH_FIELDS: dict[str, dict[str, str]] = {
    ImportKind.LEADS: {"email": "email", "phone": "phone", "external_id": "external_id",
                       "id": "id"},
    ImportKind.ORGANIZATIONS: {
        "domain": "domain", "name": "name", "phone": "phone", "external_id": "external_id",
        "id": "id",
    },
    ImportKind.CONTACTS: {"email": "email", "phone": "phone", "external_id": "external_id",
                          "id": "id"},
    ImportKind.DEALS: {"external_id": "external_id", "id": "id"},
}  # fmt: skip
DEFAULT_MATCH: dict[str, str] = {
    ImportKind.LEADS: "email",
    ImportKind.ORGANIZATIONS: "domain",
    ImportKind.CONTACTS: "email",
    ImportKind.DEALS: "external_id",
}


def normalise(header: str) -> str:
    """'Lead Source' / 'LeadSource' / 'lead_source' -> 'lead source'."""
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", str(header))
    text = re.sub(r"[^0-9a-zA-Z]+", " ", text).strip().lower()
    return re.sub(r"\s+", " ", text).replace("e mail", "email")


def fields_for(kind: str) -> list[FieldSpec]:
    return FIELDS[kind]


def field_spec(kind: str, name: str) -> FieldSpec:
    for spec in FIELDS[kind]:
        if spec.name == name:
            return spec
    raise DomainError(f"Imports of {kind} have no field “{name}”.")


def _lookup(kind: str, text: str) -> str | None:
    for spec in FIELDS[kind]:
        if text in spec.names:
            return spec.name
    return None


def recognise(kind: str, header: str, samples: list[Any] | None = None) -> str | None:
    """The field a column name stands for in this kind of import, or None."""
    entity, _, rest = str(header).partition(" - ")
    if rest:
        entity_name, rest_name = normalise(entity), normalise(rest)
        if entity_name in OWN_ENTITIES[kind]:
            found = _lookup(kind, rest_name)
            if found == "id":
                return "external_id"  # "Deal - ID" is the other CRM's number, never ours
            if found:
                return found
        if entity_name in ORG_ENTITIES and rest_name == "name" and kind in ORG_FIELD:
            return ORG_FIELD[kind]
    found = _lookup(kind, normalise(header))
    if found == "id":
        return _id_or_external(samples)
    return found


def _id_or_external(samples: list[Any] | None) -> str:
    # Our exports' ids are numbers; Salesforce's "Id" (00Q5e00000AbCdE) is another system's.
    values = [str(v).strip() for v in samples or [] if str(v).strip()]
    return "id" if all(v.isdigit() for v in values) else "external_id"


def suggest_mapping(
    kind: str, headers: list[str], samples: dict[str, list[Any]] | None = None
) -> dict[str, str]:
    """Header -> field for every recognised column (each field once); others map to ''."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for header in headers:
        field = recognise(kind, header, (samples or {}).get(header))
        if field and field not in taken:
            mapping[header] = field
            taken.add(field)
        else:
            mapping[header] = ""
    return mapping


def check_mapping(*, kind: str, mapping: dict[str, str], mode: str, match_on: str) -> None:
    """Refuse, before anything runs, a mapping that cannot import: no required column, bad match."""
    mapped = {f for f in mapping.values() if f}
    known = {spec.name for spec in FIELDS[kind]}
    unknown = mapped - known
    if unknown:
        raise DomainError(f"Imports of {kind} have no field {', '.join(sorted(unknown))}.")
    needed, description = REQUIRED[kind]
    if not mapped & needed:
        raise DomainError(
            f"The file has no column Closeloop can use for {kind}: map {description} "
            "(none was recognised)."
        )
    matches = MATCH_FIELDS[kind]
    if match_on not in matches:
        raise DomainError(
            f"{kind.capitalize()} can be matched on {', '.join(matches)}, not on “{match_on}”."
        )
    if mode != ImportMode.CREATE and matches[match_on] not in mapped:
        label = field_spec(kind, matches[match_on]).label
        raise DomainError(
            f"To {mode} records matched on {match_on}, map a column to “{label}”.", field="match_on"
        )


def duplicate_targets(mapping: dict[str, str]) -> list[str]:
    """Fields that more than one column is mapped to."""
    seen: set[str] = set()
    repeated = []
    for field in mapping.values():
        if field and field in seen:
            repeated.append(field)
        seen.add(field)
    return repeated


def load_mapping_file(text: str, *, kind: str, headers: list[str]) -> dict[str, Any]:
    """A saved mapping (JSON): {"columns": {header: field}, "values": {...}, "date_order": ...}.

    A plain {header: field} object is accepted too. Columns the file lacks are ignored.
    """
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise DomainError(f"The mapping file is not valid JSON: {exc}.") from exc
    if not isinstance(data, dict):
        raise DomainError("The mapping file must hold a JSON object.")
    columns = data.get("columns", data if "columns" not in data else {})
    if not isinstance(columns, dict):
        raise DomainError("“columns” in the mapping file must be an object.")
    columns = {k: v for k, v in columns.items() if isinstance(v, str)}
    known = {spec.name for spec in FIELDS[kind]}
    bad = sorted({v for v in columns.values() if v and v not in known})
    if bad:
        raise DomainError(
            f"The mapping file names fields imports of {kind} lack: {', '.join(bad)}."
        )
    suggested = suggest_mapping(kind, headers)
    mapping = {h: columns.get(h, suggested[h]) if h in columns else suggested[h] for h in headers}
    values = data.get("values") or {}
    if not isinstance(values, dict):
        raise DomainError("“values” in the mapping file must be an object.")
    return {"columns": mapping, "values": values, "date_order": data.get("date_order") or ""}
