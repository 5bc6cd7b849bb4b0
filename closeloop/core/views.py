from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from closeloop.analytics.figures import my_figures
from closeloop.core.http import int_param
from closeloop.leads.overview import PERIODS, journey_strip, period_for
from closeloop.leads.selectors import lead_trash_list
from closeloop.people.selectors import contact_trash, organization_trash
from closeloop.pipeline.selectors import deal_trash_list, pipeline_list


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The whole journey on one strip: leads, each deal stage, won and lost, customers; and the
    user's own key figures for this month."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    pipelines = list(pipeline_list())
    chosen = int_param(request, "pipeline")
    pipeline = next((p for p in pipelines if p.pk == chosen), pipelines[0] if pipelines else None)
    period = period_for(request.GET.get("period", "month"))
    strip = journey_strip(user=request.user, pipeline=pipeline, period=period)
    mine = my_figures(user=request.user, pipeline_id=pipeline.pk if pipeline else None)
    context = {
        "nav": "home",
        "strip": strip,
        "mine": mine,
        "pipelines": pipelines,
        "periods": PERIODS,
    }
    return render(request, "core/home.html", context)


@login_required
@require_GET
def trash(request: HttpRequest) -> HttpResponse:
    """Everything the user may see that was deleted, with a way back."""
    return render(
        request,
        "core/trash.html",
        {
            "nav": "trash",
            "leads": lead_trash_list(user=request.user).select_related("deleted_by")[:200],
            "deals": deal_trash_list(user=request.user).select_related("deleted_by")[:200],
            "organizations": organization_trash(user=request.user).select_related("deleted_by")[
                :200
            ],
            "contacts": contact_trash(user=request.user).select_related("deleted_by")[:200],
        },
    )
