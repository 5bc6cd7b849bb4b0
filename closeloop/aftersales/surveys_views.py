"""Survey pages: settings, "Send survey" from a contact or deal, results, and the customer's page.

The customer's page (/s/<token>/) needs no account, only the signed link. A tampered link
answers 404 and an old one 410, with a page that says no more than that. Views and answers are
rate limited per address; the answer form carries Django's CSRF token (it is our own page).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from closeloop.accounts.selectors import user_list
from closeloop.core.exceptions import DomainError
from closeloop.core.http import found_or_404
from closeloop.core.ratelimit import RateLimited, client_ip, rate_limit_enforce
from closeloop.people.selectors import contact_get
from closeloop.pipeline.selectors import deal_get
from closeloop.pipeline.settings_views import setup_role_required
from closeloop.proposals.selectors import product_list

from .models import Survey, SurveyInvite
from .surveys import (
    LinkExpired,
    LinkInvalid,
    SurveyClosed,
    invite_from_token,
    survey_answer,
    survey_invite_send,
    survey_save,
)
from .surveys_forms import SurveyForm, SurveySendForm
from .surveys_selectors import SurveyFilters, survey_list, survey_page, survey_results

# --- settings ------------------------------------------------------------------------------


@setup_role_required
@require_GET
def survey_settings(request: HttpRequest) -> HttpResponse:
    """Every survey, with how many were sent and answered."""
    return render(
        request,
        "aftersales/surveys/settings.html",
        {"surveys": survey_list(), "section": "surveys", "nav": "settings"},
    )


def _survey_form_page(request: HttpRequest, survey: Survey | None) -> HttpResponse:
    if request.method == "POST":
        form = SurveyForm(request.POST)
        if form.is_valid():
            try:
                saved = survey_save(actor=request.user, survey=survey, **form.service_arguments())
            except DomainError as error:
                field = error.field if error.field in form.fields else None
                form.add_error(field, error.message)
            else:
                messages.success(request, f"Survey “{saved.name}” saved.")
                return redirect("settings:surveys")
    else:
        form = SurveyForm.for_survey(survey) if survey else SurveyForm()
    return render(
        request,
        "aftersales/surveys/survey_form.html",
        {"form": form, "survey": survey, "section": "surveys", "nav": "settings"},
        status=400 if request.method == "POST" else 200,
    )


@setup_role_required
@require_http_methods(["GET", "POST"])
def survey_create(request: HttpRequest) -> HttpResponse:
    return _survey_form_page(request, None)


@setup_role_required
@require_http_methods(["GET", "POST"])
def survey_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _survey_form_page(request, found_or_404(Survey.objects.filter(pk=pk).first()))


# --- sending -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def survey_send(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Send a survey to a contact, or to a deal's contact about that deal."""
    if kind == "deal":
        deal = found_or_404(deal_get(user=request.user, pk=pk))
        contact, back = deal.contact, reverse("pipeline:deal_detail", args=[pk])
    elif kind == "contact":
        deal, contact = None, found_or_404(contact_get(user=request.user, pk=pk))
        back = reverse("people:contact_detail", args=[pk])
    else:
        raise Http404("Not found")
    form = SurveySendForm(request.POST or None, surveys=survey_list(active_only=True))
    if request.method == "POST" and form.is_valid():
        try:
            invite = survey_invite_send(
                actor=request.user, survey=form.cleaned_data["survey"], contact=contact, deal=deal
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Survey sent to {invite.email}.")
            return redirect(back)
    return render(
        request,
        "aftersales/surveys/send.html",
        {"form": form, "contact": contact, "deal": deal, "back": back},
        status=400 if request.method == "POST" else 200,
    )


# --- results -------------------------------------------------------------------------------


@login_required
@require_GET
def survey_results_page(request: HttpRequest) -> HttpResponse:
    """NPS, CSAT and response rate by rep, product and month, and the latest answers."""
    filters = SurveyFilters.from_query(request.GET)
    return render(
        request,
        "aftersales/surveys/results.html",
        {
            "results": survey_results(user=request.user, filters=filters),
            "filters": filters,
            "surveys": Survey.objects.order_by("name"),
            "owners": user_list(user=request.user, include_inactive=True),
            "products": product_list(active_only=False).order_by("name"),
            "nav": "customers",
        },
    )


# --- the customer's page -------------------------------------------------------------------


def _unavailable(request: HttpRequest, *, expired: bool) -> HttpResponse:
    return render(
        request,
        "aftersales/surveys/public_unavailable.html",
        {"expired": expired},
        status=410 if expired else 404,
    )


def _limit(request: HttpRequest, what: str, setting: str, default: int) -> None:
    rate_limit_enforce(
        key=f"survey:{what}:{client_ip(request)}",
        limit=int(getattr(settings, setting, default)),
        message="Too many requests from your network. Please wait a minute and try again.",
    )


def _public_page(
    request: HttpRequest,
    invite: SurveyInvite,
    token: str,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    saved: bool = False,
) -> HttpResponse:
    state = survey_page(invite=invite)
    if values is None and state.response is not None:
        values = {"score": str(state.response.score), "comment": state.response.comment}
        values.update({k: str(v) for k, v in state.response.answers.items()})
    survey = invite.survey
    scores = range(0, 11) if survey.kind == "nps" else range(1, 6)
    questions = [dict(q, value=(values or {}).get(q["key"], "")) for q in survey.questions]
    return render(
        request,
        "aftersales/surveys/public.html",
        {
            "invite": invite,
            "survey": survey,
            "state": state,
            "token": token,
            "scores": [str(s) for s in scores],
            "questions": questions,
            "values": values or {},
            "errors": errors or {},
            "saved": saved,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def survey_public(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's survey: answer it, change the answer for seven days, then read it."""
    try:
        # counted outside the answer's transaction, so refused tries count too
        if request.method == "POST":
            _limit(request, "answer", "SURVEY_RATE_PER_IP", 20)
        else:
            _limit(request, "view", "SURVEY_VIEW_RATE_PER_IP", 120)
    except RateLimited as limited:
        response = render(
            request, "aftersales/surveys/public_limited.html", {"message": limited.message}
        )
        response.status_code = 429
        response["Retry-After"] = str(limited.retry_after)
        return response
    try:
        invite = invite_from_token(token)
    except LinkExpired:
        return _unavailable(request, expired=True)
    except LinkInvalid:
        return _unavailable(request, expired=False)
    if request.method == "GET":
        return _public_page(request, invite, token, saved=request.GET.get("saved") == "1")
    post = request.POST
    values = {key: post.get(key, "") for key in ["score", "comment"]}
    values.update({q["key"]: post.get(q["key"], "") for q in invite.survey.questions})
    try:
        survey_answer(
            invite=invite,
            score=values["score"],
            comment=values["comment"],
            answers={q["key"]: values[q["key"]] for q in invite.survey.questions},
        )
    except SurveyClosed as closed:
        return _public_page(request, invite, token, status=409, errors={"": closed.message})
    except DomainError as error:
        errors = {error.field or "": error.message}
        return _public_page(request, invite, token, status=400, errors=errors, values=values)
    return redirect(reverse("aftersales_public:survey", args=[token]) + "?saved=1")
