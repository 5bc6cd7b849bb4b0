"""The reports; importing this package registers each one (see results.report_register)."""

from . import funnel  # noqa: F401
from .cycle import cycle_report  # noqa: F401
from .lost import lost_report  # noqa: F401
from .team import team_report  # noqa: F401
from .winrates import winrates_report  # noqa: F401
from . import funnel  # noqa: F401, I001
from . import insights  # noqa: F401
from . import forecast, funnel, velocity  # noqa: F401
