"""The Content-Security-Policy header every response carries (docs/security.md).

Scripts run only from our own static files: no inline `<script>` blocks, no `onclick=`
attributes, no eval (htmx runs with allowEval off, see templates/base.html), so markup that
slips into a page cannot run. Styles may be inline (`style=` attributes and a few `<style>`
blocks): CSS cannot run script in current browsers, and moving every style attribute out would
buy little. Images may come from https: sites and data: URIs (email templates show pictures
hosted elsewhere in their preview; the proposal logo is embedded as a data: URI).

Pages may not be framed (`frame-ancestors 'none'`, as X-Frame-Options: DENY says), except the
responses a view marks with Django's `xframe_options_exempt` (the public web-form pages, made
to be embedded on customers' sites). A response that sets its own Content-Security-Policy (a
stored file, the sandboxed HTML part of an email) keeps it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"

POLICY: dict[str, tuple[str, ...]] = {
    "default-src": ("'self'",),
    "script-src": ("'self'",),
    "style-src": ("'self'", "'unsafe-inline'"),
    "img-src": ("'self'", "data:", "https:"),
    "font-src": ("'self'", "data:"),
    "connect-src": ("'self'",),
    "frame-src": ("'self'",),
    "object-src": ("'none'",),
    "base-uri": ("'self'",),
    "form-action": ("'self'",),
    "frame-ancestors": ("'none'",),
}


def csp_allow(response: HttpResponse, directive: str, *sources: str) -> HttpResponse:
    """Allow more sources for one directive of this response's policy (e.g. the address a
    web form sends its visitors to after they submit it)."""
    extra: dict[str, list[str]] = response.__dict__.setdefault("csp_extra", {})
    extra.setdefault(directive, []).extend(sources)
    return response


def csp_policy(response: HttpResponse) -> str:
    """The policy for this response: POLICY, without frame-ancestors when the view allows
    framing, with what the view added by csp_allow."""
    directives = {name: list(sources) for name, sources in POLICY.items()}
    if getattr(response, "xframe_options_exempt", False):
        del directives["frame-ancestors"]
    for name, sources in getattr(response, "csp_extra", {}).items():
        directives.setdefault(name, [])
        directives[name] += [s for s in sources if s not in directives[name]]
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


class ContentSecurityPolicyMiddleware:
    """Adds the Content-Security-Policy header to every response that has none of its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if HEADER not in response:
            response[HEADER] = csp_policy(response)
        return response
