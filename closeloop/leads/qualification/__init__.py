"""Qualification: the scorecard, the workspace's criteria, and the three outcomes of a lead."""

from .nurture import lead_nurture_return, lead_nurture_return_due
from .outcomes import (
    contact_candidates,
    lead_disqualify,
    lead_nurture,
    lead_qualify,
    lead_reopen,
    organization_candidates,
)
from .scorecard import (
    Gap,
    ScorecardRow,
    criterion_create,
    criterion_delete,
    criterion_update,
    disqualify_reason_create,
    disqualify_reason_update,
    lead_score_gaps,
    lead_scorecard,
    leads_gaps,
    qualification_defaults_ensure,
    qualification_settings_update,
    scorecard_summary,
    scorecard_update,
    scores_recompute,
)

__all__ = [
    "Gap",
    "ScorecardRow",
    "contact_candidates",
    "criterion_create",
    "criterion_delete",
    "criterion_update",
    "disqualify_reason_create",
    "disqualify_reason_update",
    "lead_disqualify",
    "lead_nurture",
    "lead_nurture_return",
    "lead_nurture_return_due",
    "lead_qualify",
    "lead_reopen",
    "lead_score_gaps",
    "lead_scorecard",
    "leads_gaps",
    "organization_candidates",
    "qualification_defaults_ensure",
    "qualification_settings_update",
    "scorecard_summary",
    "scorecard_update",
    "scores_recompute",
]
