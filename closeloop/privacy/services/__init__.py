"""Every write of the GDPR tools: the export (it logs itself) and the erasure."""

from .erase import ErasureSummary, contact_erase, erased
from .export import ExportSummary, contact_export, export_name, record_json

__all__ = [
    "ErasureSummary",
    "ExportSummary",
    "contact_erase",
    "contact_export",
    "erased",
    "export_name",
    "record_json",
]
