from django.db import models


class PlanAnchor(models.TextChoices):
    WON = "won", "the win"
    DELIVERY = "delivery", "the delivery date"


class StepKind(models.TextChoices):
    TASK = "task", "Task for the account owner"
    EMAIL = "email", "Email from a template"
    SURVEY = "survey", "Satisfaction survey"
    COUPON = "coupon", "Coupon"
    OFFER = "offer", "Offer email with a coupon"


class PlanState(models.TextChoices):
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class StepState(models.TextChoices):
    PENDING = "pending", "Waiting"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class SurveyKind(models.TextChoices):
    CSAT = "csat", "CSAT (1–5)"
    NPS = "nps", "NPS (0–10)"


class CouponKind(models.TextChoices):
    PERCENT = "percent", "Percent off"
    AMOUNT = "amount", "Amount off"


class CouponOrigin(models.TextChoices):
    MANUAL = "manual", "Issued by hand"
    CAMPAIGN = "campaign", "Campaign code"
    PLAN = "plan", "Follow-up plan"
    OFFER = "offer", "Offer"
    REFERRAL = "referral", "Referral reward"


class MailingState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    CANCELLED = "cancelled", "Cancelled"


class RecipientState(models.TextChoices):
    PENDING = "pending", "Waiting"
    QUEUED = "queued", "In the outbox"
    SUPPRESSED = "suppressed", "Not sent: unsubscribed"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Not sent"
