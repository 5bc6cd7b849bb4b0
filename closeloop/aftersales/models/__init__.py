"""After the win: follow-up plans, surveys, coupons, consent and promotional mail, referrals."""

from .coupons import Coupon, CouponRedemption
from .marketing import ConsentChange, Mailing, MailingRecipient, Segment, Suppression
from .plans import FollowUpPlan, PlanStep, PlanStepTemplate, PlanTemplate
from .referrals import Referral
from .surveys import Survey, SurveyInvite, SurveyResponse

__all__ = [
    "ConsentChange",
    "Coupon",
    "CouponRedemption",
    "FollowUpPlan",
    "Mailing",
    "MailingRecipient",
    "PlanStep",
    "PlanStepTemplate",
    "PlanTemplate",
    "Referral",
    "Segment",
    "Suppression",
    "Survey",
    "SurveyInvite",
    "SurveyResponse",
]
