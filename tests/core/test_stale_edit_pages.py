"""Two people edit the same record in two sessions: the second save is refused, shows the first
person's change (who, what, when) and keeps the second person's input; the first change stays.
Saving the refused form again applies the second person's change on top of the first."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.test import Client
from django.urls import reverse

from closeloop.leads.models import Lead
from closeloop.people.models import Contact
from closeloop.pipeline.models import Deal
from closeloop.proposals.models import Proposal
from closeloop.proposals.services import LineIn, proposal_create, proposal_lines_set
from tests.factories import ContactEmailFactory, ContactFactory, DealFactory

pytestmark = pytest.mark.django_db


def form_data(form: forms.Form) -> dict[str, Any]:
    """The form as a browser posts it back: every input as shown, unticked boxes left out."""
    data: dict[str, Any] = {}
    for field in form:
        value = field.value()
        if isinstance(field.field.widget, forms.CheckboxInput):
            if value:
                data[field.html_name] = "on"
            continue
        data[field.html_name] = "" if value is None else str(value)
    return data


def opened(client: Client, url: str) -> dict[str, Any]:
    """What one person's edit page holds when they open it."""
    response = client.get(url)
    assert response.status_code == 200
    return form_data(response.context["form"])


@pytest.fixture
def anna(client_for: Any, manager: Any) -> Client:
    return client_for(manager)  # Mia Manager, who sees her team's records


@pytest.fixture
def rita(rep_client: Client) -> Client:
    return rep_client  # Rita Rep


def test_lead_second_save_is_refused_showing_the_first_and_keeping_the_input(
    anna: Client, rita: Client, rep: Any
) -> None:
    lead = Lead.objects.create(
        owner=rep, first_name="Ada", last_name="Byron", phone="+49 30 111111"
    )
    url = reverse("leads:lead_edit", args=[lead.pk])
    mine, theirs = opened(anna, url), opened(rita, url)

    theirs["phone"] = "+49 30 222222"
    assert rita.post(url, theirs).status_code == 302
    mine["job_title"] = "Head of IT"
    response = anna.post(url, mine)

    assert response.status_code == 200
    html = response.content.decode()
    assert "was changed by someone else since you opened it" in html
    assert "Rita Rep changed Phone from “+49 30 111111” to “+49 30 222222” at " in html
    form = response.context["form"]
    assert form["job_title"].value() == "Head of IT"  # her own input is kept
    assert form["phone"].value() == "+49 30 222222"  # a field she left alone shows theirs
    lead.refresh_from_db()
    assert (lead.phone, lead.job_title) == ("+49 30 222222", "")  # the first change stands

    again = anna.post(url, form_data(form))
    assert again.status_code == 302
    lead.refresh_from_db()
    assert (lead.phone, lead.job_title) == ("+49 30 222222", "Head of IT")


def test_a_field_both_changed_keeps_the_users_value_and_is_marked(
    anna: Client, rita: Client, rep: Any
) -> None:
    lead = Lead.objects.create(owner=rep, first_name="Ada", job_title="CTO")
    url = reverse("leads:lead_edit", args=[lead.pk])
    mine, theirs = opened(anna, url), opened(rita, url)
    theirs["job_title"] = "CEO"
    rita.post(url, theirs)
    mine["job_title"] = "CFO"
    form = anna.post(url, mine).context["form"]
    assert form["job_title"].value() == "CFO"
    assert form.errors["job_title"][0].startswith("Rita Rep changed this to “CEO” at ")
    assert Lead.objects.get(pk=lead.pk).job_title == "CEO"


def test_contact_emails_and_phones_are_compared_as_rows(
    anna: Client, rita: Client, rep: Any
) -> None:
    contact = ContactFactory(first_name="Lena", last_name="Lind", owner=rep)
    ContactEmailFactory(contact=contact, email="lena@bakery.example")
    url = reverse("people:contact_edit", args=[contact.pk])
    mine, theirs = opened(anna, url), opened(rita, url)

    theirs.update(phone_0="+49 30 7654321", phone_label_0="mobile")
    assert rita.post(url, theirs).status_code == 302
    mine["job_title"] = "Owner"
    response = anna.post(url, mine)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Rita Rep changed Phones from “—” to “+49 30 7654321 (mobile)” at " in html
    form = response.context["form"]
    assert form["job_title"].value() == "Owner"
    assert form["phone_0"].value() == "+49 30 7654321"  # the row she left alone shows theirs
    assert [p.raw for p in Contact.objects.get(pk=contact.pk).phones.all()] == ["+49 30 7654321"]

    assert anna.post(url, form_data(form)).status_code == 302
    contact.refresh_from_db()
    assert contact.job_title == "Owner"
    assert [p.raw for p in contact.phones.all()] == ["+49 30 7654321"]
    assert [e.email for e in contact.emails.all()] == ["lena@bakery.example"]


def test_deal_second_save_names_the_first(anna: Client, rita: Client, rep: Any) -> None:
    deal = DealFactory(title="Website", owner=rep)
    url = reverse("pipeline:deal_edit", args=[deal.pk])
    mine, theirs = opened(anna, url), opened(rita, url)
    theirs["title"] = "Website relaunch"
    assert rita.post(url, theirs).status_code == 302
    mine["value"] = "2500"
    response = anna.post(url, mine)
    assert "Rita Rep changed Title from “Website” to “Website relaunch” at " in (
        response.content.decode()
    )
    form = response.context["form"]
    assert (form["title"].value(), form["value"].value()) == ("Website relaunch", "2500")
    assert anna.post(url, form_data(form)).status_code == 302
    deal.refresh_from_db()
    assert (deal.title, str(deal.value)) == ("Website relaunch", "2500.00")


def _editor(client: Client, proposal: Proposal) -> dict[str, Any]:
    """The proposal editor as a browser posts it: its form, the version, one list per input."""
    response = client.get(reverse("proposals:detail", args=[proposal.pk]))
    data = form_data(response.context["form"])
    data["version"] = str(response.context["form_version"])
    for key in ("lines", "instalments", "delivery"):
        rows = getattr(response.context["rows"], key)
        prefix = {"lines": "line", "instalments": "inst", "delivery": "dlv"}[key]
        for row in rows:
            for name, value in row.items():
                data.setdefault(f"{prefix}_{name}", []).append(value)
    return data


def test_proposal_lines_kept_and_the_others_title_taken(
    anna: Client, rita: Client, rep: Any, bakery_deal: Any
) -> None:
    proposal = proposal_create(actor=rep, deal=bakery_deal, title="Offer")
    proposal_lines_set(
        actor=rep, proposal=proposal, lines=[LineIn(name="Design", unit_price="900")]
    )
    url = reverse("proposals:detail", args=[proposal.pk])
    mine, theirs = _editor(anna, proposal), _editor(rita, proposal)

    theirs["title"] = "Offer, revised"
    assert rita.post(url, theirs).status_code == 302
    mine["line_unit_price"] = ["1200"]
    response = anna.post(url, mine)

    html = response.content.decode()
    assert "Rita Rep changed Title from “Offer” to “Offer, revised” at " in html
    assert response.context["form"]["title"].value() == "Offer, revised"
    assert response.context["rows"].lines[0]["unit_price"] == "1200"  # her line kept
    stored = Proposal.objects.get(pk=proposal.pk)
    assert [str(line.unit_price) for line in stored.lines.all()] == ["900.0000"]

    again = _editor(anna, proposal)  # the page as shown, resubmitted with her price
    again.update(
        title="Offer, revised",
        version=str(response.context["form_version"]),
        line_unit_price=["1200"],
    )
    assert anna.post(url, again).status_code == 302
    stored = Proposal.objects.get(pk=proposal.pk)
    assert stored.title == "Offer, revised"
    assert [line.unit_price for line in stored.lines.all()] == [1200]


def test_scorecard_answer_refused_only_when_someone_changed_that_same_answer(
    anna: Client, rita: Client, rep: Any
) -> None:
    from closeloop.leads.models import QualificationCriterion

    lead = Lead.objects.create(owner=rep)
    budget = QualificationCriterion.objects.get(key="budget")
    need = QualificationCriterion.objects.get(key="need")
    seen = Lead.objects.get(pk=lead.pk).version

    def answer(client: Client, criterion: Any, **values: str) -> Any:
        data = {f"c{criterion.pk}-{k}": v for k, v in {"version": str(seen), **values}.items()}
        url = reverse("leads:lead_scorecard_save", args=[lead.pk, criterion.pk])
        return client.post(url, data, HTTP_HX_REQUEST="true")

    answer(rita, budget, status="yes", note="20k approved")
    other = answer(anna, need, status="partly", note="Slow website")  # another answer: fine
    assert "changed by someone else" not in other.content.decode()
    refused = answer(anna, budget, status="no", note="No money")
    html = refused.content.decode()
    assert "Rita Rep changed Scorecard: Budget from “Unknown” to “Yes — 20k approved” at " in html
    assert "No money" in html  # her answer is still in the form
    lead.refresh_from_db()
    item = lead.scorecard.get(criterion=budget)
    assert (item.status, item.note) == ("yes", "20k approved")


def test_stale_deal_move_on_the_board_answers_409_naming_the_change(
    anna: Client, rita: Client, rep: Any
) -> None:
    from tests.factories import stage_named

    deal = DealFactory(title="Website", owner=rep)
    seen = deal.version
    rita.post(
        reverse("pipeline:deal_edit", args=[deal.pk]),
        {**opened(rita, reverse("pipeline:deal_edit", args=[deal.pk])), "title": "Shop"},
    )
    response = anna.post(
        reverse("pipeline:deal_move", args=[deal.pk]),
        {"stage": stage_named("Negotiation / commitment").pk, "version": str(seen)},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 409
    assert "Rita Rep changed Title from “Website” to “Shop”" in response.json()["error"]
    assert Deal.objects.get(pk=deal.pk).stage == deal.stage
