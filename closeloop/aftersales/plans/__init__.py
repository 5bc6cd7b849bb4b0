"""Follow-up plans: templates set up in Settings, started by a win, run step by step by the worker.

`STEP_RUNNERS` maps a step kind to the function doing its effect; the surveys part adds
`survey` with `step_runner_register("survey", survey_step_run)`.
"""

from .running import (
    STEP_RUNNERS,
    StepRunner,
    plan_cancel,
    plan_delivery_set,
    plan_step_run,
    plan_step_skip,
    plan_steps_run_due,
    plans_start_for_won_deal,
    step_runner_register,
)
from .setup import (
    StepInput,
    plan_step_template_add,
    plan_step_template_delete,
    plan_step_template_move,
    plan_step_template_update,
    plan_template_create,
    plan_template_set_active,
    plan_template_update,
)

__all__ = [
    "STEP_RUNNERS",
    "StepInput",
    "StepRunner",
    "plan_cancel",
    "plan_delivery_set",
    "plan_step_run",
    "plan_step_skip",
    "plan_step_template_add",
    "plan_step_template_delete",
    "plan_step_template_move",
    "plan_step_template_update",
    "plan_steps_run_due",
    "plan_template_create",
    "plan_template_set_active",
    "plan_template_update",
    "plans_start_for_won_deal",
    "step_runner_register",
]
