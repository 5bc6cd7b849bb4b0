"""Every write to leads, sources and campaigns goes through these functions."""

from .bulk import lead_bulk_assign, lead_bulk_set_status, lead_bulk_trash
from .campaigns import (
    CAMPAIGN_FIELDS,
    campaign_create,
    campaign_for_utm,
    campaign_update,
    clean_campaign,
)
from .duplicates import duplicate_dismiss
from .inputs import (
    LEAD_EDITABLE,
    MAX_NOTES,
    TEXT_LIMITS,
    LeadInput,
    LeadResult,
    clean_lead_input,
    email_domain,
)
from .leads import (
    lead_create,
    lead_note_add,
    lead_restore,
    lead_trash,
    lead_update,
    organization_for_domain,
)
from .sources import clean_source_name, source_create, source_update

__all__ = [
    "CAMPAIGN_FIELDS",
    "LEAD_EDITABLE",
    "MAX_NOTES",
    "TEXT_LIMITS",
    "LeadInput",
    "LeadResult",
    "campaign_create",
    "campaign_for_utm",
    "campaign_update",
    "clean_campaign",
    "clean_lead_input",
    "clean_source_name",
    "duplicate_dismiss",
    "email_domain",
    "lead_bulk_assign",
    "lead_bulk_set_status",
    "lead_bulk_trash",
    "lead_create",
    "lead_note_add",
    "lead_restore",
    "lead_trash",
    "lead_update",
    "organization_for_domain",
    "source_create",
    "source_update",
]
