from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from closeloop.leads.selectors import lead_trash_list
from closeloop.people.selectors import contact_trash, organization_trash
from closeloop.pipeline.selectors import deal_trash_list


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The board is where a salesperson's day starts."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    return redirect("pipeline:board")


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
