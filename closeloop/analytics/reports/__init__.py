"""The reports; importing this package registers each one (see results.report_register)."""

from . import forecast, funnel, velocity  # noqa: F401
