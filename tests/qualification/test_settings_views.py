"""Settings → Qualification: admins only; weights, threshold, criteria and discard reasons."""

from __future__ import annotations

from django.urls import reverse

from closeloop.accounts.selectors import workspace_settings
from closeloop.leads.models import DisqualifyReason, QualificationCriterion

from .conftest import answer

URL = reverse("settings:qualification")


def test_only_admins_see_the_page(rep_client, manager_client, admin_client_):
    assert rep_client.get(URL).status_code == 403
    assert manager_client.post(URL, {"action": "reason_add", "name": "X"}).status_code == 403
    page = admin_client_.get(URL).content.decode()
    assert "Weight of Budget" in page and "Not the decision-maker" in page


def test_weights_and_threshold_are_saved_and_scores_follow(admin_client_, lead):
    answer(lead, "budget")
    data = {"action": "weights", "threshold": "40"}
    for c in QualificationCriterion.objects.all():
        data[f"weight_{c.pk}"] = "50" if c.key == "budget" else "10"
    response = admin_client_.post(URL, data, follow=True)
    assert "Weights and threshold saved" in response.content.decode()
    assert workspace_settings().qualify_threshold == 40
    lead.refresh_from_db()
    assert lead.score == 63  # 50 of 80


def test_add_rename_deactivate_and_delete_a_custom_criterion(admin_client_):
    admin_client_.post(URL, {"action": "criterion_add", "name": "Champion", "weight": "20"})
    custom = QualificationCriterion.objects.get(name="Champion")
    admin_client_.post(
        URL,
        {
            "action": "criterion_update",
            "pk": custom.pk,
            "name": "Our champion",
            "question": "Who pushes for us?",
            "weight": "20",
            "is_active": "false",
        },
    )
    custom.refresh_from_db()
    assert custom.name == "Our champion" and not custom.is_active
    budget = QualificationCriterion.objects.get(key="budget")
    response = admin_client_.post(URL, {"action": "criterion_delete", "pk": budget.pk}, follow=True)
    assert "deactivate it instead" in response.content.decode()
    admin_client_.post(URL, {"action": "criterion_delete", "pk": custom.pk})
    assert QualificationCriterion.objects.count() == 4


def test_discard_reasons_add_and_retire(admin_client_):
    admin_client_.post(URL, {"action": "reason_add", "name": "Too small <b>"})
    reason = DisqualifyReason.objects.get(name="Too small <b>")
    assert "Too small &lt;b&gt;" in admin_client_.get(URL).content.decode()
    admin_client_.post(URL, {"action": "reason_update", "pk": reason.pk, "name": "Too small"})
    reason.refresh_from_db()
    assert reason.name == "Too small" and not reason.is_active
