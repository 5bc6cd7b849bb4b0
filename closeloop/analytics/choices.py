from django.db import models


class TargetMetric(models.TextChoices):
    WON_VALUE = "won_value", "Won value"
    WON_DEALS = "won_deals", "Deals won"
    NEW_DEALS = "new_deals", "Deals created"


class PeriodPreset(models.TextChoices):
    THIS_MONTH = "this_month", "This month"
    LAST_MONTH = "last_month", "Last month"
    THIS_QUARTER = "this_quarter", "This quarter"
    LAST_QUARTER = "last_quarter", "Last quarter"
    THIS_YEAR = "this_year", "This year"
    LAST_12_MONTHS = "last_12_months", "Last 12 months"
    ALL = "all", "All time"
    CUSTOM = "custom", "Custom dates"
