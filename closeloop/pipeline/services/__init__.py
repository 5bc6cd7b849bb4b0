"""Every write to pipelines, stages and deals goes through these functions."""

from .deals import (
    deal_create,
    deal_mark_lost,
    deal_mark_won,
    deal_move_to_stage,
    deal_note_add,
    deal_reopen,
    deal_restore,
    deal_trash,
    deal_update,
    deal_won_handler_register,
)
from .setup import (
    lost_reason_create,
    lost_reason_update,
    pipeline_automation_set,
    pipeline_create,
    pipeline_update,
    stage_create,
    stage_delete,
    stage_reorder,
    stage_update,
    workspace_defaults_ensure,
)

__all__ = [
    "deal_create",
    "deal_mark_lost",
    "deal_mark_won",
    "deal_move_to_stage",
    "deal_note_add",
    "deal_reopen",
    "deal_restore",
    "deal_trash",
    "deal_update",
    "deal_won_handler_register",
    "lost_reason_create",
    "lost_reason_update",
    "pipeline_automation_set",
    "pipeline_create",
    "pipeline_update",
    "stage_create",
    "stage_delete",
    "stage_reorder",
    "stage_update",
    "workspace_defaults_ensure",
]
