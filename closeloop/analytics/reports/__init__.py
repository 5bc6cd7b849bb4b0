"""The reports; importing this package registers each one (see results.report_register)."""

from . import funnel  # noqa: F401, I001
from . import insights  # noqa: F401
