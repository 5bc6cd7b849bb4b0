"""Every write on products, templates and proposals."""

from .approvals import approval_decide, approval_request, approvers_of, send_blocker
from .catalogue import discount_limit_set, product_create, product_update, template_save
from .editing import proposal_edit, totals_preview
from .lines import LineIn
from .materials import (
    material_upload,
    proposal_material_remove,
    proposal_materials_add,
    template_material_remove,
    template_materials_add,
)
from .proposals import (
    discount_problems,
    proposal_create,
    proposal_fingerprint,
    proposal_lines_set,
    proposal_lock,
    proposal_update,
    totals_of,
)
from .versions import version_freeze, version_snapshot

__all__ = [
    "LineIn",
    "approval_decide",
    "approval_request",
    "approvers_of",
    "discount_limit_set",
    "discount_problems",
    "material_upload",
    "product_create",
    "product_update",
    "proposal_create",
    "proposal_edit",
    "proposal_fingerprint",
    "proposal_lines_set",
    "proposal_lock",
    "proposal_material_remove",
    "proposal_materials_add",
    "proposal_update",
    "send_blocker",
    "template_material_remove",
    "template_materials_add",
    "template_save",
    "totals_of",
    "totals_preview",
    "version_freeze",
    "version_snapshot",
]
