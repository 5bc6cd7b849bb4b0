"""After the win: follow-up plans, surveys, coupons, consent and promotional mail, referrals."""

from .coupons import Coupon, CouponRedemption
from .marketing import Mailing, MailingRecipient, Segment
from .plans import FollowUpPlan, PlanStep, PlanStepTemplate, PlanTemplate
from .referrals import Referral, ReferralProgram
from .surveys import Survey, SurveyInvite, SurveyResponse

__all__ = [
    "Coupon",
    "CouponRedemption",
    "FollowUpPlan",
    "Mailing",
    "MailingRecipient",
    "PlanStep",
    "PlanStepTemplate",
    "PlanTemplate",
    "Referral",
    "ReferralProgram",
    "Segment",
    "Survey",
    "SurveyInvite",
    "SurveyResponse",
]
