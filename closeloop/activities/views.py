from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .selectors import notification_list
from .services import notification_mark_read


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    page = Paginator(notification_list(user=request.user), 50).get_page(request.GET.get("page"))
    return render(
        request, "activities/notifications.html", {"page_obj": page, "nav": "notifications"}
    )


@login_required
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    """Mark one notification read and follow its link, or mark them all read."""
    raw = request.POST.get("id", "")
    if raw.isdigit():
        notification_mark_read(actor=request.user, notification_ids=[int(raw)])
        target = notification_list(user=request.user).filter(pk=int(raw)).first()
        if target and url_has_allowed_host_and_scheme(target.url, allowed_hosts=None):
            return redirect(target.url)
    else:
        notification_mark_read(actor=request.user)
    return redirect("activities:notifications")
