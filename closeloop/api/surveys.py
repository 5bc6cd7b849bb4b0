"""Satisfaction surveys over the API, read-only: the surveys, and the customers' answers.

Everyone signed in may read the surveys (they pick one when sending). Answers are seen as the
results page counts them: those of the customers the token's user may see (the invite's owner
is theirs, a teammate's where the role allows, or nobody's).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from closeloop.aftersales.choices import SurveyKind
from closeloop.aftersales.models import Survey, SurveyResponse
from closeloop.aftersales.surveys_selectors import ResponseFilters, survey_response_list

from .errors import ERRORS, not_found
from .ids import PathId, RecordId
from .lists import ListQuery, Page, page_of

router = Router(tags=["surveys"])

SURVEY_ORDERINGS = ("name", "created_at", "updated_at")
RESPONSE_ORDERINGS = ("answered_at", "score", "created_at", "updated_at")


class SurveyOut(Schema):
    id: int
    name: str
    kind: str = Field(..., description="`csat` (1–5) or `nps` (0–10)")
    question: str
    comment_label: str
    questions: list[dict[str, Any]] = Field(..., description="the extra questions")
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class ResponseOut(Schema):
    id: int
    survey_id: int
    survey_kind: str
    score: int
    comment: str
    answers: dict[str, Any] = Field(..., description="the extra questions' answers, by key")
    contact_id: int
    contact_name: str
    organization_id: int | None
    deal_id: int | None
    answered_at: dt.datetime
    changed_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_survey_id(obj: SurveyResponse) -> int:
        return obj.invite.survey_id

    @staticmethod
    def resolve_survey_kind(obj: SurveyResponse) -> str:
        return obj.invite.survey.kind

    @staticmethod
    def resolve_contact_id(obj: SurveyResponse) -> int:
        return obj.invite.contact_id

    @staticmethod
    def resolve_contact_name(obj: SurveyResponse) -> str:
        return str(obj.invite.contact)

    @staticmethod
    def resolve_organization_id(obj: SurveyResponse) -> int | None:
        return obj.invite.organization_id

    @staticmethod
    def resolve_deal_id(obj: SurveyResponse) -> int | None:
        return obj.invite.deal_id


class SurveyListQuery(ListQuery):
    kind: SurveyKind | None = None
    active: bool | None = Field(None, description="only the ones that can (or cannot) be sent")


class ResponseQuery(ListQuery):
    kind: SurveyKind | None = None
    answered_from: dt.date | None = None
    answered_to: dt.date | None = None
    score_min: int | None = Field(None, ge=0, le=10)
    score_max: int | None = Field(None, ge=0, le=10)


class AllResponsesQuery(ResponseQuery):
    survey_id: RecordId | None = None


def _responses(
    request: HttpRequest, query: ResponseQuery, survey_id: int | None
) -> QuerySet[SurveyResponse]:
    filters = ResponseFilters(
        survey_id=survey_id,
        kind=query.kind or "",
        answered_from=query.answered_from,
        answered_to=query.answered_to,
        score_min=query.score_min,
        score_max=query.score_max,
    )
    return survey_response_list(user=request.user, filters=filters)


@router.get("", response={200: Page[SurveyOut], **ERRORS}, summary="List surveys")
def list_surveys(request: HttpRequest, query: Query[SurveyListQuery]) -> Any:
    """Every survey, by name unless `ordering` says otherwise."""
    surveys = Survey.objects.all()
    if query.kind:
        surveys = surveys.filter(kind=query.kind)
    if query.active is not None:
        surveys = surveys.filter(is_active=query.active)
    return page_of(surveys, query, orderings=SURVEY_ORDERINGS, default="name")


@router.get(
    "/responses", response={200: Page[ResponseOut], **ERRORS}, summary="List survey answers"
)
def list_all_responses(request: HttpRequest, query: Query[AllResponsesQuery]) -> Any:
    """The answers to every survey the token's user may see, latest first."""
    return page_of(
        _responses(request, query, query.survey_id),
        query,
        orderings=RESPONSE_ORDERINGS,
        default="-answered_at",
    )


@router.get("/{survey_id}", response={200: SurveyOut, **ERRORS}, summary="Read a survey")
def read_survey(request: HttpRequest, survey_id: PathId) -> Survey:
    """One survey: its question, kind and extra questions."""
    survey = Survey.objects.filter(pk=survey_id).first()
    if survey is None:
        raise not_found("survey")
    return survey


@router.get(
    "/{survey_id}/responses",
    response={200: Page[ResponseOut], **ERRORS},
    summary="List a survey's answers",
)
def list_responses(request: HttpRequest, survey_id: PathId, query: Query[ResponseQuery]) -> Any:
    """The answers to this survey the token's user may see, latest first."""
    read_survey(request, survey_id)
    return page_of(
        _responses(request, query, survey_id),
        query,
        orderings=RESPONSE_ORDERINGS,
        default="-answered_at",
    )
