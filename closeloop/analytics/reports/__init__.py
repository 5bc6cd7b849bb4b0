"""The reports; importing this package registers each one (see results.report_register)."""

from . import (  # noqa: F401  (each module registers its report)
    cycle,
    forecast,
    funnel,
    insights,
    lost,
    team,
    velocity,
    winrates,
)
