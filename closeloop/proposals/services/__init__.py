"""Every write on products, templates and proposals."""

from .approvals import approval_decide, approval_request, approvers_of, send_blocker
from .branding import LOGO_MAX_BYTES, branding_get, branding_update
from .catalogue import discount_limit_set, product_create, product_update, template_save
from .editing import proposal_edit, proposal_edit_as_logged, totals_preview
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
from .responses import (
    ResponseRefused,
    Visitor,
    proposal_accept,
    proposal_decline,
    proposal_request_changes,
)
from .sending import proposal_send
from .versions import version_freeze, version_snapshot

__all__ = [
    "LOGO_MAX_BYTES",
    "LineIn",
    "ResponseRefused",
    "Visitor",
    "approval_decide",
    "approval_request",
    "approvers_of",
    "branding_get",
    "branding_update",
    "discount_limit_set",
    "discount_problems",
    "material_upload",
    "product_create",
    "product_update",
    "proposal_accept",
    "proposal_create",
    "proposal_decline",
    "proposal_edit",
    "proposal_edit_as_logged",
    "proposal_fingerprint",
    "proposal_lines_set",
    "proposal_lock",
    "proposal_material_remove",
    "proposal_materials_add",
    "proposal_request_changes",
    "proposal_send",
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
