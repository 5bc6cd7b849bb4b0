"""The GDPR tools on a contact's page: download everything about them; erase them (admins)."""

from __future__ import annotations

import tempfile

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from closeloop.accounts.choices import Role
from closeloop.core.exceptions import DomainError
from closeloop.core.http import found_or_404
from closeloop.people.models import Contact
from closeloop.people.selectors import contact_get

from . import services
from .forms import EraseForm
from .selectors import contact_footprint, footprint_counts, may_erase, may_export

SPOOL_BYTES = 16 * 1024 * 1024  # exports up to this size stay in memory, bigger ones on disk


@login_required
@require_POST
def contact_export_download(request: HttpRequest, pk: int) -> FileResponse:
    """The zip of everything about the contact (POST: each export is logged)."""
    if getattr(request.user, "role", None) not in (Role.ADMIN, Role.MANAGER):
        # refused before the lookup, as every page for some roles only is (403, not 404)
        raise PermissionDenied("Only admins and managers can export a contact's data.")
    contact = found_or_404(contact_get(user=request.user, pk=pk))
    if not may_export(user=request.user, contact=contact):
        raise PermissionDenied("Only admins and managers can export a contact's data.")
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (the response closes it)
    summary = services.contact_export(actor=request.user, contact=contact, target=spool)
    spool.seek(0)
    return FileResponse(
        spool, as_attachment=True, filename=summary.name, content_type="application/zip"
    )


@login_required
def contact_erase_page(request: HttpRequest, pk: int) -> HttpResponse:
    """What erasing would anonymise and keep, and the typed confirmation (admins only)."""
    if not may_erase(user=request.user):
        raise PermissionDenied("Only admins can erase a contact's personal data.")
    contact = found_or_404(Contact.with_trashed.filter(pk=pk).first())
    form = EraseForm(request.POST or None, contact=contact)
    already = services.erased(contact)
    if request.method == "POST" and form.is_valid() and not already:
        try:
            services.contact_erase(actor=request.user, contact=contact)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                "Personal data erased. The deals and their figures are kept; the addresses "
                "will never be mailed again.",
            )
            return redirect("people:contact_detail", pk=contact.pk)
    return render(request, "privacy/erase.html", {
        "contact": contact, "form": form, "already": already, "nav": "contacts",
        "counts": footprint_counts(contact_footprint(contact=contact)),
    })  # fmt: skip
