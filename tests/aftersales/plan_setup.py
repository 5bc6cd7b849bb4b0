"""The follow-up plan the plan tests share: four steps from the win to day 30, one after delivery.

| step | kind   | when                  | effect                                       |
| ---- | ------ | --------------------- | -------------------------------------------- |
| 1    | task   | day 0 after the win   | task "Call to say thanks" for Rita           |
| 2    | email  | day 3                 | "Thank you, Lena" to lena@bakery.example     |
| 3    | coupon | day 14                | 10 % off, valid 30 days, to Lena             |
| 4    | offer  | day 30                | 50 EUR off (valid 60 days) + email naming it |
| 5    | task   | 2 days after delivery | task "Check the installation"                |
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import time_machine

from closeloop.aftersales.plans import StepInput, plan_step_template_add, plan_template_create
from closeloop.messaging.models import EmailTemplate
from tests.factories import default_pipeline

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def at(days: float) -> time_machine.travel:
    return time_machine.travel(T0 + dt.timedelta(days=days), tick=False)


def email_templates() -> tuple[EmailTemplate, EmailTemplate]:
    thanks = EmailTemplate.objects.create(
        name="Thanks",
        subject="Thank you, {{ contact.first_name }}",
        text_body="Hello {{ contact.first_name }}, thank you for {{ deal.title }}.",
        html_body="<p>Hello {{ contact.first_name }}, thank you for {{ deal.title }}.</p>",
    )
    offer = EmailTemplate.objects.create(
        name="Come back",
        subject="A gift for {{ company.name }}",
        text_body="Your code: {{ coupon.code }}",
    )
    return thanks, offer


def welcome_plan(actor: Any) -> Any:
    """The plan of the table above, attached to the default pipeline."""
    thanks, offer = email_templates()
    plan = plan_template_create(actor=actor, name="Welcome", pipeline=default_pipeline())
    steps = [
        StepInput(kind="task", title="Call to say thanks", body="Ask how the launch went."),
        StepInput(kind="email", title="Thank-you email", offset_days=3, email_template=thanks),
        StepInput(
            kind="coupon",
            title="Loyalty coupon",
            offset_days=14,
            coupon_kind="percent",
            coupon_value="10",
            coupon_valid_days=30,
        ),
        StepInput(
            kind="offer",
            title="Come-back offer",
            offset_days=30,
            email_template=offer,
            coupon_kind="amount",
            coupon_value="50",
            coupon_valid_days=60,
        ),
        StepInput(kind="task", title="Check the installation", offset_days=2, anchor="delivery"),
    ]
    for step in steps:
        plan_step_template_add(actor=actor, template=plan, step=step)
    return plan
