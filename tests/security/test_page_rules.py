"""Every page URL, called anonymously and as a rep, a manager and an admin: who gets what.

Each named route of the URL configuration (the API has its own walk, tests/api/test_route_rules.py;
the Django admin is walked model by model below) has a rule in RULES, and a route added without
one fails `test_every_page_route_has_a_rule`: nobody adds a page without deciding who may open it.

The records a rule names are owned by the outsider (a rep of another team), so:

- `Owned`: a page of records under the visibility rules. The rep and the rep's manager get 404
  (a list or export leaves the record out), an admin reaches it. With `allowed`, the roles left
  out get 403 first. `team=False` marks records only their owner (and admins) see, even within
  a team (the outbox, webhooks, personal booking pages).
- `Roles`: for some roles only; the others get 403.
- `Everyone`: any signed-in user.
- `Private`: the owner's own (API tokens, notifications): nobody else reaches it, admins neither.
- `Shielded`: a POST naming the record in its form (bulk actions): it answers, but leaves the
  record as it was for whoever may not see it.
- `Public`: the customer-facing pages reached by a signed link or a public address: they work
  without logging in.

Without a session every route but the public ones sends the visitor to the login page. POSTs
carry a CSRF token as a browser's would (the client enforces the check).

`test_the_team_sees_the_records_of_its_members` runs the same rules again with the records owned
by the manager's own rep: the manager reaches them, the rep's teammate does not.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings
from django.contrib import admin as django_admin
from django.middleware.csrf import _get_new_csrf_string  # type: ignore[attr-defined]
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from closeloop.analytics.results import report_kinds
from tests.factories import PASSWORD
from tests.route_records import fill

from .page_records import PageRecords

pytestmark = pytest.mark.django_db

ROLES = ("rep", "manager", "admin")
MANAGERS = ("manager", "admin")
ADMINS = ("admin",)
LOGIN = reverse(settings.LOGIN_URL)


@dataclass(frozen=True)
class Page:
    """A call of one route: the URL (with {record} names), the method and the form data."""

    url: str
    method: str = "GET"
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Owned(Page):
    listed: str = ""
    allowed: tuple[str, ...] = ROLES
    team: bool = True


@dataclass(frozen=True)
class Roles(Page):
    allowed: tuple[str, ...] = MANAGERS


@dataclass(frozen=True)
class Everyone(Page):
    pass


@dataclass(frozen=True)
class Private(Page):
    listed: str = ""


@dataclass(frozen=True)
class Shielded(Page):
    state: str = ""  # a records builder whose answer must not change
    admin_changes: bool = True


@dataclass(frozen=True)
class Public(Page):
    pass


Rule = Owned | Roles | Everyone | Private | Shielded | Public


# A list and its CSV export follow the same rule.
def _listed(url: str, name: str, **kwargs: Any) -> tuple[Rule, ...]:
    join = "&" if "?" in url else "?"
    return (Owned(url, listed=name, **kwargs), Owned(f"{url}{join}format=csv", listed=name,
                                                    **kwargs))  # fmt: skip


POST = "POST"

RULES: dict[str, Rule | tuple[Rule, ...]] = {
    "home": Everyone("/"),
    # your own account
    "accounts:login": Public("/accounts/login/"),
    "accounts:logout": Public("/accounts/logout/", POST),
    "accounts:profile": Everyone("/accounts/profile/"),
    "accounts:api_token_create": Everyone("/accounts/profile/tokens/", POST, {"name": "Mine"}),
    "accounts:api_token_revoke": Private("/accounts/profile/tokens/{api_token}/revoke/", POST),
    "accounts:password_change": Everyone("/accounts/password/"),
    "accounts:password_change_done": Everyone("/accounts/password/done/"),
    # the sales process: managers and admins
    "settings:pipelines": Roles("/settings/"),
    "settings:pipeline_create": Roles("/settings/pipelines/new/", POST, {"name": "New {serial}"}),
    "settings:pipeline_update": Roles(
        "/settings/pipelines/{pipeline}/", POST, {"name": "Sales {serial}"}
    ),
    "settings:pipeline_automation": Roles("/settings/pipelines/{pipeline}/automation/", POST),
    "settings:stage_create": Roles(
        "/settings/pipelines/{pipeline}/stages/new/",
        POST,
        {"name": "Extra {serial}", "probability": "10"},
    ),
    "settings:stage_edit": Roles("/settings/stages/{stage}/"),
    "settings:stage_move": Roles("/settings/stages/{stage}/move/", POST, {"direction": "down"}),
    "settings:stage_delete": Roles("/settings/stages/{spare_stage}/delete/", POST),
    "settings:lost_reasons": Roles("/settings/lost-reasons/"),
    "settings:lost_reason_create": Roles(
        "/settings/lost-reasons/new/", POST, {"name": "Went quiet {serial}"}
    ),
    "settings:lost_reason_update": Roles(
        "/settings/lost-reasons/{lost_reason}/", POST, {"name": "Price {serial}"}
    ),
    "settings:assignment_rules": Roles("/settings/assignment/"),
    "settings:assignment_rule_create": Roles(
        "/settings/assignment/new/", POST, {"name": "Rule {serial}"}
    ),
    "settings:assignment_rule_edit": Roles("/settings/assignment/{assignment_rule}/"),
    "settings:assignment_rule_toggle": Roles(
        "/settings/assignment/{assignment_rule}/active/", POST
    ),
    "settings:assignment_rule_move": Roles(
        "/settings/assignment/{assignment_rule}/move/", POST, {"direction": "up"}
    ),
    "settings:assignment_rule_delete": Roles(
        "/settings/assignment/{assignment_rule}/delete/", POST
    ),
    "settings:plans:list": Roles("/settings/follow-up-plans/"),
    "settings:plans:create": Roles(
        "/settings/follow-up-plans/new/", POST, {"name": "Plan {serial}"}
    ),
    "settings:plans:edit": Roles("/settings/follow-up-plans/{plan_template}/"),
    "settings:plans:toggle": Roles("/settings/follow-up-plans/{plan_template}/active/", POST),
    "settings:plans:step_add": Roles(
        "/settings/follow-up-plans/{plan_template}/steps/new/",
        POST,
        {"kind": "task", "title": "Call", "offset_days": "1", "anchor": "won"},
    ),
    "settings:plans:step_edit": Roles("/settings/follow-up-plans/steps/{plan_step_template}/"),
    "settings:plans:step_move": Roles(
        "/settings/follow-up-plans/steps/{plan_step_template}/move/", POST, {"direction": "up"}
    ),
    "settings:plans:step_delete": Roles(
        "/settings/follow-up-plans/steps/{plan_step_template}/delete/", POST
    ),
    "settings:surveys": Roles("/settings/surveys/"),
    "settings:survey_create": Roles("/settings/surveys/new/"),
    "settings:survey_edit": Roles("/settings/surveys/{survey}/"),
    "settings:referrals": Roles("/settings/referrals/"),
    "proposals:product_create": Roles("/proposals/products/new/"),
    "proposals:product_edit": Roles("/proposals/products/{product_id}/"),
    "proposals:product_active": Roles("/proposals/products/{product_id}/active/", POST),
    "proposals:template_create": Roles("/proposals/templates/new/"),
    "proposals:template_materials": Roles(
        "/proposals/templates/{proposal_template}/materials/", POST
    ),
    "leads:campaign_create": Roles("/leads/campaigns/new/"),
    "leads:campaign_edit": Roles("/leads/campaigns/{campaign}/edit/"),
    "leads:source_list": Roles("/leads/sources/"),
    "webforms:list": Roles("/settings/webforms/"),
    "webforms:create": Roles("/settings/webforms/new/"),
    "webforms:edit": Roles("/settings/webforms/{webform}/"),
    "webforms:set_active": Roles("/settings/webforms/{webform}/active/", POST, {"active": "0"}),
    "webforms:embed": Roles("/settings/webforms/{webform}/embed/"),
    "analytics:targets": Roles("/analytics/targets/"),
    "aftersales:segments": Roles("/customers/segments/"),
    "aftersales:segment_detail": Roles("/customers/segments/{segment}/"),
    "aftersales:mailings": Roles("/customers/mailings/"),
    "aftersales:mailing_detail": Roles("/customers/mailings/{mailing}/"),
    "aftersales:mailing_action": Roles("/customers/mailings/{mailing}/cancel/", POST),
    # the workspace: admins only
    "settings:users": Roles("/settings/users/", allowed=ADMINS),
    "settings:user_create": Roles("/settings/users/new/", allowed=ADMINS),
    "settings:user_edit": Roles("/settings/users/{outsider}/", allowed=ADMINS),
    "settings:user_set_password": Roles(
        "/settings/users/{outsider}/password/",
        POST,
        {"password": "violet-harbour-lantern"},
        allowed=ADMINS,
    ),
    "settings:user_set_active": Roles(
        "/settings/users/{outsider}/active/", POST, {"active": "1"}, allowed=ADMINS
    ),
    "settings:team_create": Roles(
        "/settings/teams/new/", POST, {"name": "East {serial}"}, allowed=ADMINS
    ),
    "settings:workspace": Roles("/settings/workspace/", allowed=ADMINS),
    "settings:qualification": Roles("/settings/qualification/", allowed=ADMINS),
    "settings:email_templates": Roles("/settings/email-templates/", allowed=ADMINS),
    "settings:email_template_create": Roles("/settings/email-templates/new/", allowed=ADMINS),
    "settings:email_template_preview": Roles(
        "/settings/email-templates/preview/",
        POST,
        {"subject": "Hi", "text_body": "Hello"},
        allowed=ADMINS,
    ),
    "settings:email_template_edit": Roles(
        "/settings/email-templates/{email_template}/", allowed=ADMINS
    ),
    "settings:email_template_delete": Roles(
        "/settings/email-templates/{email_template}/delete/", POST, allowed=ADMINS
    ),
    "settings:mailbox": Roles("/settings/mailbox/", allowed=ADMINS),
    "settings:mailbox_poll": Roles("/settings/mailbox/poll/", POST, allowed=ADMINS),
    "settings:audit": Roles("/settings/audit/", allowed=ADMINS),
    "proposals:discount_limits": Roles("/proposals/discount-limits/", allowed=ADMINS),
    "proposals:branding": Roles("/proposals/branding/", allowed=ADMINS),
    # webhooks: everyone their own, admins every one
    "settings:webhooks:list": Owned("/settings/webhooks/", listed="subscription", team=False),
    "settings:webhooks:create": Everyone("/settings/webhooks/new/"),
    "settings:webhooks:detail": Owned("/settings/webhooks/{subscription}/", team=False),
    "settings:webhooks:edit": Owned("/settings/webhooks/{subscription}/edit/", team=False),
    "settings:webhooks:rotate_secret": Owned(
        "/settings/webhooks/{subscription}/secret/", POST, team=False
    ),
    "settings:webhooks:ping": Owned("/settings/webhooks/{subscription}/ping/", POST, team=False),
    "settings:webhooks:delete": Owned(
        "/settings/webhooks/{subscription}/delete/", POST, team=False
    ),
    "settings:webhooks:delivery": Owned("/settings/webhooks/deliveries/{delivery}/", team=False),
    "settings:webhooks:redeliver": Owned(
        "/settings/webhooks/deliveries/{delivery}/redeliver/", POST, team=False
    ),
    # organizations and contacts
    "people:organization_list": _listed("/people/organizations/", "organization"),
    "people:organization_create": Everyone("/people/organizations/new/"),
    "people:organization_detail": Owned("/people/organizations/{organization}/"),
    "people:organization_edit": Owned("/people/organizations/{organization}/edit/"),
    "people:organization_trash": Owned("/people/organizations/{organization}/trash/", POST),
    "people:organization_restore": Owned(
        "/people/organizations/{trashed_organization}/restore/", POST
    ),
    "people:organization_note": Owned(
        "/people/organizations/{organization}/note/", POST, {"body": "Called"}
    ),
    "people:contact_list": _listed("/people/contacts/", "contact"),
    "people:contact_create": Everyone("/people/contacts/new/"),
    "people:contact_detail": Owned("/people/contacts/{contact}/"),
    "people:contact_edit": Owned("/people/contacts/{contact}/edit/"),
    "people:contact_trash": Owned("/people/contacts/{contact}/trash/", POST),
    "people:contact_restore": Owned("/people/contacts/{trashed_contact}/restore/", POST),
    "people:contact_note": Owned("/people/contacts/{contact}/note/", POST, {"body": "Called"}),
    "privacy:contact_export": Owned("/privacy/contacts/{contact}/export/", POST, allowed=MANAGERS),
    "privacy:contact_erase": Roles("/privacy/contacts/{contact}/erase/", allowed=ADMINS),
    "aftersales:contact_consent": Owned(
        "/customers/contacts/{contact}/consent/", POST, {"granted": "1", "source": "phone"}
    ),
    # deals
    "pipeline:deal_list": _listed("/deals/", "deal"),
    "pipeline:board": Owned("/deals/board/", listed="deal"),
    "pipeline:board_column": Owned("/deals/board/column/{deal_stage}/", listed="deal"),
    "pipeline:deal_create": Everyone("/deals/new/"),
    "pipeline:deal_detail": Owned("/deals/{deal}/"),
    "pipeline:deal_edit": Owned("/deals/{deal}/edit/"),
    "pipeline:deal_move": Owned("/deals/{deal}/move/", POST, {"stage": "{stage}"}),
    "pipeline:deal_win": Owned("/deals/{deal}/win/", POST),
    "pipeline:deal_lose": Owned("/deals/{deal}/lose/"),
    "pipeline:deal_reopen": Owned("/deals/{deal}/reopen/", POST),
    "pipeline:deal_note": Owned("/deals/{deal}/note/", POST, {"body": "Called"}),
    "pipeline:deal_trash": Owned("/deals/{deal}/trash/", POST),
    "pipeline:deal_restore": Owned("/deals/{trashed_deal}/restore/", POST),
    "trash": (
        Owned("/trash/", listed="trashed_deal"),
        Owned("/trash/", listed="trashed_lead"),
        Owned("/trash/", listed="trashed_organization"),
        Owned("/trash/", listed="trashed_contact"),
    ),
    # the catalogue: everyone reads it
    "proposals:products": Everyone("/proposals/products/"),
    "proposals:templates": Everyone("/proposals/templates/"),
    "proposals:template_edit": Everyone("/proposals/templates/{proposal_template}/"),
    # proposals follow their deal
    "proposals:new": Owned("/proposals/new/{deal}/"),
    "proposals:detail": Owned("/proposals/{proposal}/"),
    "proposals:totals": Owned("/proposals/{proposal}/totals/", POST),
    "proposals:materials": Owned("/proposals/{proposal}/materials/", POST),
    "proposals:material_download": Owned("/proposals/materials/{material}/"),
    "proposals:approvals": Owned("/proposals/approvals/", listed="approval"),
    "proposals:approval_decide": Owned(
        "/proposals/approvals/{approval}/decide/", POST, {"decision": "approve"}
    ),
    "proposals:approval_request": Owned(
        "/proposals/{proposal}/approval/", POST, {"reason": "Loyal customer"}
    ),
    "proposals:versions": Owned("/proposals/{proposal}/versions/"),
    "proposals:version": Owned("/proposals/{proposal}/versions/{version_number}/"),
    "proposals:version_note": Owned(
        "/proposals/{proposal}/versions/{version_number}/note/", POST, {"note": "Sent by post"}
    ),
    "proposals:reports": (
        Everyone("/proposals/reports/"),
        Everyone("/proposals/reports/?export=templates"),
    ),
    "proposal_docs:preview": Owned("/proposals/{proposal}/preview/"),
    "proposal_docs:preview_pdf": Owned("/proposals/{proposal}/preview.pdf"),
    "proposal_docs:version": Owned("/proposals/{proposal}/versions/{version_number}/document/"),
    "proposal_docs:version_pdf": Owned("/proposals/{proposal}/versions/{version_number}/pdf"),
    "proposal_docs:send": Owned("/proposals/{proposal}/send/"),
    # leads
    "leads:lead_list": _listed("/leads/", "lead"),
    "leads:lead_create": Everyone("/leads/new/"),
    "leads:lead_bulk": Shielded(
        "/leads/bulk/", POST, {"ids": "{lead}", "action": "trash"}, state="lead_in_trash"
    ),
    "leads:lead_detail": Owned("/leads/{lead}/"),
    "leads:lead_edit": Owned("/leads/{lead}/edit/"),
    "leads:lead_note": Owned("/leads/{lead}/note/", POST, {"body": "Called"}),
    "leads:lead_trash": Owned("/leads/{lead}/trash/", POST),
    "leads:lead_restore": Owned("/leads/{trashed_lead}/restore/", POST),
    "leads:lead_scorecard_save": Owned(
        "/leads/{lead}/scorecard/{criterion}/", POST, {"answer": "yes"}
    ),
    "leads:lead_qualify": Owned("/leads/{lead}/qualify/"),
    "leads:lead_nurture": Owned(
        "/leads/{lead}/nurture/", POST, {"reason": "Next year", "until": "2030-01-15"}
    ),
    "leads:lead_disqualify": Owned("/leads/{lead}/disqualify/", POST),
    "leads:lead_reopen": Owned("/leads/{lead}/reopen/", POST),
    "leads:campaign_list": Everyone("/leads/campaigns/"),
    "leads:campaign_detail": (
        Owned("/leads/campaigns/{campaign}/", listed="campaign_lead"),
        Owned("/leads/campaigns/{campaign}/", listed="campaign_deal"),
    ),
    "leads:reports": (
        Everyone("/leads/reports/"),
        Everyone("/leads/reports/?export=sources"),
    ),
    # duplicates
    "duplicates:list": Owned("/duplicates/", listed="duplicate_pair"),
    "duplicates:scan": Roles("/duplicates/scan/", POST),
    "duplicates:dismiss": Owned("/duplicates/{duplicate_pair}/dismiss/", POST),
    "duplicates:lead_merge": Owned("/duplicates/{duplicate_pair}/merge/"),
    "duplicates:contact_merge": Owned("/duplicates/contacts/{contact}/{other_contact}/merge/"),
    # imports: managers and admins, each their teams' imports
    "imports:list": Owned("/imports/", listed="import_batch", allowed=MANAGERS),
    "imports:upload": Roles("/imports/new/"),
    "imports:detail": Owned("/imports/{import_batch}/", allowed=MANAGERS),
    "imports:mapping": Owned("/imports/{import_batch}/mapping/", allowed=MANAGERS),
    "imports:preview": Owned("/imports/{import_batch}/preview/", allowed=MANAGERS),
    "imports:run": Owned("/imports/{import_batch}/run/", POST, allowed=MANAGERS),
    "imports:status": Owned("/imports/{import_batch}/status/", allowed=MANAGERS),
    "imports:failed_csv": Owned("/imports/{import_batch}/failed.csv", allowed=MANAGERS),
    "imports:undo": Owned("/imports/{import_batch}/undo/", POST, allowed=MANAGERS),
    # web forms' public side
    "webforms:public_form": Public("/f/{webform_token}/"),
    "webforms:public_submit": Public(
        "/f/{webform_token}/submit",
        POST,
        {"last_name": "Visitor", "email": "v@visitor.example", "_started": "{webform_started}"},
    ),
    "webforms:public_started": Public("/f/{webform_token}/started"),
    "webforms:public_thanks": Public("/f/{webform_token}/thanks/"),
    # booking: settings are each user's own (managers: their teams' pages), pages are public
    "booking:settings": Everyone("/settings/booking/"),
    "booking:settings_hours": Everyone("/settings/booking/hours/"),
    "booking:settings_page_new": Everyone("/settings/booking/pages/new/"),
    "booking:settings_page": Owned("/settings/booking/pages/{booking_page}/", team=False),
    "booking:settings_type_new": Owned(
        "/settings/booking/pages/{booking_page}/types/new/", team=False
    ),
    "booking:settings_type": Owned(
        "/settings/booking/pages/{booking_page}/types/{meeting_type}/", team=False
    ),
    "booking:manage": Public("/book/manage/{booking_token}/"),
    "booking:reschedule": Public("/book/manage/{booking_token}/reschedule/"),
    "booking:cancel": Public("/book/manage/{booking_token}/cancel/"),
    "booking:page": Public("/book/{booking_slug}/"),
    "booking:slots": Public("/book/{booking_slug}/{meeting_type}/"),
    "booking:book": Public("/book/{booking_slug}/{meeting_type}/book/"),
    # notifications and the calendar: each user's own
    "activities:notifications": Private("/notifications/", listed="notification"),
    "activities:notifications_read": Shielded(
        "/notifications/read/",
        POST,
        {"id": "{notification}"},
        state="notification_unread",
        admin_changes=False,
    ),
    "calendar:feed": Public("/calendar/{feed_token}.ics"),
    "calendar:feed_reset": Everyone("/calendar/feed/reset/", POST),
    "calendar:reminders": Everyone("/calendar/reminders/", POST),
    # planned work
    "activity:schedule": (
        Owned("/activities/schedule/deal/{deal}/"),
        Owned("/activities/schedule/lead/{lead}/"),
        Owned("/activities/schedule/contact/{contact}/"),
        Owned("/activities/schedule/organization/{organization}/"),
    ),
    "activity:detail": Owned("/activities/{activity}/"),
    "activity:reschedule": Owned(
        "/activities/{activity}/reschedule/", POST, {"date": "2030-01-07", "start": "10:00"}
    ),
    "activity:complete": Owned("/activities/{activity}/complete/", POST, {"outcome": "held"}),
    "activity:cancel": Owned("/activities/{activity}/cancel/", POST),
    "activity:ics": Owned("/activities/{activity}/calendar.ics"),
    "work:my_work": Owned("/work/?user={outsider}"),
    "work:week": Owned("/work/week/?user={outsider}"),
    # email: the outbox is each writer's own (admins: all); files follow their timeline
    "messaging:outbox": Owned("/outbox/", listed="message", team=False),
    "messaging:detail": Owned("/outbox/{message}/", team=False),
    "messaging:html": Owned("/outbox/{message}/html/", team=False),
    "messaging:resend": Owned("/outbox/{message}/resend/", POST, team=False),
    "messaging:attachment": Owned("/outbox/{message}/attachments/{attachment}/", team=False),
    "messaging:timeline_file": Owned("/outbox/files/sent/{attachment}/"),
    "compose:compose": (
        Owned("/email/deal/{deal}/"),
        Owned("/email/lead/{lead}/"),
        Owned("/email/contact/{contact}/"),
    ),
    "compose:fill": Owned("/email/deal/{deal}/fill/", POST, {"template": "{email_template}"}),
    # the customer's side of a proposal
    "proposals_public:view": Public("/p/{proposal_token}/"),
    "proposals_public:pdf": Public("/p/{proposal_token}/pdf"),
    "proposals_public:material": Public("/p/{proposal_token}/materials/{material}"),
    "proposals_public:accept": Public(
        "/p/{proposal_token}/accept", POST, {"name": "Olaf", "consent": "on"}
    ),
    "proposals_public:decline": Public("/p/{proposal_token}/decline", POST, {"reason": "Later"}),
    "proposals_public:changes": Public(
        "/p/{proposal_token}/changes", POST, {"comment": "Cheaper, please"}
    ),
    # analytics: every report over what the user may see
    "analytics:dashboard": Everyone("/analytics/"),
    "analytics:report": tuple(Everyone(f"/analytics/{kind.key}/") for kind in report_kinds()),
    # after the sale
    "aftersales:customers": Owned("/customers/", listed="customer_organization"),
    "aftersales:customer_organization": Owned("/customers/org/{customer_organization}/"),
    "aftersales:customer_contact": Owned("/customers/contact/{customer}/"),
    "aftersales:referrals": Everyone("/customers/referrals/"),
    "aftersales:plan_cancel": Owned("/customers/plans/{plan}/cancel/", POST),
    "aftersales:plan_delivery": Owned(
        "/customers/plans/{plan}/delivery/", POST, {"delivery_date": "2030-01-07"}
    ),
    "aftersales:plan_step_skip": Owned("/customers/plans/steps/{plan_step}/skip/", POST),
    "aftersales:surveys": Owned("/customers/surveys/", listed="survey_response"),
    "aftersales:survey_send": (
        Owned("/customers/surveys/send/deal/{deal}/"),
        Owned("/customers/surveys/send/contact/{contact}/"),
    ),
    "aftersales:coupon_list": Owned("/customers/coupons/", listed="customer_coupon_code"),
    "aftersales:coupon_issue": Everyone("/customers/coupons/new/"),
    "aftersales:coupon_detail": Owned("/customers/coupons/{customer_coupon}/"),
    "aftersales:coupon_withdraw": Owned(
        "/customers/coupons/{customer_coupon}/withdraw/", POST, {"reason": "Mistake"}
    ),
    "aftersales:customer_coupon_check": (
        Owned(
            "/customers/coupons/customer/contact/{contact}/check/",
            POST,
            {"code": "{coupon}", "order_value": "100"},
        ),
        Owned(
            "/customers/coupons/customer/organization/{organization}/check/",
            POST,
            {"code": "{coupon}", "order_value": "100"},
        ),
    ),
    "aftersales:customer_coupon_redeem": (
        Owned(
            "/customers/coupons/customer/contact/{contact}/redeem/",
            POST,
            {"code": "{coupon}", "order_value": "100", "currency": "EUR"},
        ),
        Owned(
            "/customers/coupons/customer/organization/{organization}/redeem/",
            POST,
            {"code": "{coupon}", "order_value": "100", "currency": "EUR"},
        ),
    ),
    "aftersales:redemption_link_deal": Owned(
        "/customers/coupons/redemptions/{redemption}/deal/", POST, {"deal": "{deal}"}
    ),
    # the customer's links
    "aftersales_public:survey": Public("/s/{survey_token}/"),
    "aftersales_public:referral": Public("/r/{referral_token}/"),
    "aftersales_public:unsubscribe": Public("/u/{unsubscribe_token}/"),
}


def _named_routes(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            route = prefix + str(pattern.pattern)
            if route.startswith(("api/", "admin/")):
                continue  # walked by the API's own rules and by the admin test below
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from _named_routes(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern):
            assert pattern.name, f"the route {prefix}{pattern.pattern} has no name"
            yield namespace + pattern.name


ROUTES = sorted(set(_named_routes(get_resolver().url_patterns)))


def _rules(name: str) -> tuple[Rule, ...]:
    rule = RULES[name]
    return rule if isinstance(rule, tuple) else (rule,)


CASES = [(name, i) for name in ROUTES if name in RULES for i in range(len(_rules(name)))]


def test_every_page_route_has_a_rule():
    assert sorted(set(ROUTES) - set(RULES)) == [], "add a rule to RULES for these routes"
    assert sorted(set(RULES) - set(ROUTES)) == [], "these rules name routes that are gone"


# --- calling ------------------------------------------------------------------------------


class Browser(Client):
    """A test client that enforces CSRF and sends the token with every POST, as a form does."""

    def __init__(self) -> None:
        super().__init__(enforce_csrf_checks=True)
        self.csrf = _get_new_csrf_string()
        self.cookies[settings.CSRF_COOKIE_NAME] = self.csrf

    def send(self, page: Page, url: str, data: dict[str, Any]) -> Any:
        if page.method == "GET":
            return self.get(url)
        return self.post(url, data, headers={"X-CSRFToken": self.csrf})


def browser_for(user: Any = None) -> Browser:
    browser = Browser()
    if user is not None:
        assert browser.login(username=user.email, password=PASSWORD)
        browser.cookies[settings.CSRF_COOKIE_NAME] = browser.csrf  # login rotates nothing here
    return browser


def _text(response: Any) -> str:
    """The answer's text with HTML entities read (a streamed export is read once and kept)."""
    if not hasattr(response, "walk_body"):
        streamed = getattr(response, "streaming", False)
        response.walk_body = b"".join(response.streaming_content) if streamed else response.content
    return html.unescape(response.walk_body.decode("utf-8", "replace"))


def _to_login(response: Any) -> bool:
    return response.status_code == 302 and response["Location"].startswith(LOGIN)


def _ok(page: Page, response: Any) -> bool:
    """Let through: a GET answers with its page (or sends on); a POST is not refused for access."""
    status = response.status_code
    if _to_login(response) or status >= 500:
        return False
    if page.method == "GET":
        return status < 400
    return status not in (401, 403, 404, 405)


def _describe(role: str, response: Any) -> str:
    where = response.get("Location", "") if response.status_code in (301, 302) else ""
    return f"{role}: {response.status_code} {where} {_text(response)[:300]!r}"


def _check(rule: Rule, role: str, response: Any, records: PageRecords, *, team_walk: bool) -> None:
    """Did `role` get what the rule says? In the team walk the manager is of the owner's team."""
    said = _describe(role, response)
    assert response.status_code < 500, said
    if isinstance(rule, Public):  # (logging out ends on the login page)
        assert response.status_code < 400, said
        assert rule.method == "POST" or not _to_login(response), said
        return
    if isinstance(rule, Roles | Owned) and role not in rule.allowed:
        assert response.status_code == 403, said
        return
    if isinstance(rule, Roles | Everyone):
        assert _ok(rule, response), said
        return
    if isinstance(rule, Shielded):
        assert _ok(rule, response), said
        return
    sees = role == "admin"
    if isinstance(rule, Owned) and team_walk and role == "manager":
        sees = rule.team
    if isinstance(rule, Private):
        sees = False
    listed = getattr(rule, "listed", "")
    if listed:
        assert response.status_code == 200, said
        assert (records.marker(listed) in _text(response)) == sees, (listed, said)
    elif sees:
        assert _ok(rule, response), said
    else:
        assert response.status_code == 404, said


def _call(rule: Rule, records: PageRecords, browser: Browser) -> Any:
    return browser.send(rule, fill(rule.url, records), fill(rule.data, records))


def _state(rule: Rule, records: PageRecords) -> Any:
    """The value a Shielded rule watches, read afresh."""
    assert isinstance(rule, Shielded)
    return getattr(records, f"_{rule.state}")()


@pytest.mark.parametrize(("name", "index"), CASES, ids=[f"{n}#{i}" for n, i in CASES])
def test_who_gets_what(name, index, rep, manager, admin, outsider):
    rule = _rules(name)[index]
    records = PageRecords(outsider, admin)
    if getattr(rule, "listed", ""):
        records.marker(rule.listed)  # made before the calls, so a list could show it
    url = fill(rule.url, records)
    assert resolve(url.split("?")[0]).view_name == name, url
    if not isinstance(rule, Public):
        anonymous = _call(rule, records, browser_for())
        assert _to_login(anonymous), _describe("anonymous", anonymous)
    users = {"rep": rep, "manager": manager, "admin": admin}
    callers = ["anonymous"] if isinstance(rule, Public) else list(ROLES)
    if isinstance(rule, Public) and rule.method == "GET":
        callers += list(ROLES)  # a public page works signed in too
    for serial, role in enumerate(callers):  # the admin last: a write may change the record
        if isinstance(rule, Roles):  # each role its own records: a manager's delete was allowed
            records = PageRecords(outsider, admin, serial + 1)
        before = _state(rule, records) if isinstance(rule, Shielded) else None
        response = _call(rule, records, browser_for(users.get(role)))
        _check(rule, role, response, records, team_walk=False)
        if isinstance(rule, Shielded):
            changed = _state(rule, records) != before
            assert changed == (role == "admin" and rule.admin_changes), (role, rule.state)


OWNED = [(name, i) for name, i in CASES if isinstance(_rules(name)[i], Owned)]


@pytest.mark.parametrize(("name", "index"), OWNED, ids=[f"{n}#{i}" for n, i in OWNED])
def test_the_team_sees_the_records_of_its_members(name, index, rep, manager, teammate, admin):
    """The same records owned by the manager's own rep: the manager reaches them (unless only
    their owner may), a teammate (another rep of the team) does not."""
    rule = _rules(name)[index]
    assert isinstance(rule, Owned)
    records = PageRecords(rep, admin)
    if rule.listed:
        records.marker(rule.listed)
    for role, user in (("rep", teammate), ("manager", manager)):
        response = _call(rule, records, browser_for(user))
        _check(rule, role, response, records, team_walk=True)


POSTS = [
    (name, i)
    for name, i in CASES
    if _rules(name)[i].method == "POST" and not isinstance(_rules(name)[i], Public)
]


@pytest.mark.parametrize(("name", "index"), POSTS, ids=[f"{n}#{i}" for n, i in POSTS])
def test_a_post_without_the_csrf_token_is_refused(name, index, admin, outsider):
    """Even for an admin: a form another site makes the browser send does nothing."""
    rule = _rules(name)[index]
    records = PageRecords(outsider, admin)
    browser = browser_for(admin)
    response = browser.post(fill(rule.url, records), fill(rule.data, records))
    assert response.status_code == 403, _describe("admin", response)
    assert "CSRF" in _text(response)


# --- the Django admin ---------------------------------------------------------------------

ADMIN_MODELS = sorted(
    f"{model._meta.app_label}_{model._meta.model_name}" for model in django_admin.site._registry
)


@pytest.mark.parametrize("model", ADMIN_MODELS)
def test_only_admins_open_the_django_admin(model, rep, manager, admin):
    url = reverse(f"admin:{model}_changelist")
    admin_login = reverse("admin:login")
    for user in (None, rep, manager):
        response = browser_for(user).get(url)
        assert response.status_code == 302, (user, response.status_code)
        assert response["Location"].startswith(admin_login), (user, response["Location"])
    assert browser_for(admin).get(url).status_code == 200
