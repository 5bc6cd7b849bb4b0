import pytest
from django.urls import reverse

from closeloop.activities.models import Notification
from closeloop.activities.services import notification_create

pytestmark = pytest.mark.django_db


def test_bell_counts_unread_and_page_lists_only_own(rep_client, rep, manager):
    notification_create(recipient=rep, kind="nurture", title="Ann Lee is back", url="/leads/")
    notification_create(recipient=rep, kind="assigned", title="<b>New</b> lead for you")
    notification_create(recipient=manager, kind="assigned", title="Manager only")
    html = rep_client.get(reverse("activities:notifications")).content.decode()
    assert 'aria-label="2 unread"' in html
    assert "Ann Lee is back" in html
    assert "&lt;b&gt;New&lt;/b&gt; lead for you" in html
    assert "Manager only" not in html


def test_opening_one_marks_it_read_and_follows_its_link(rep_client, rep):
    n = notification_create(recipient=rep, kind="nurture", title="Back", url="/leads/")
    response = rep_client.post(reverse("activities:notifications_read"), {"id": n.pk})
    assert response.status_code == 302 and response["Location"] == "/leads/"
    n.refresh_from_db()
    assert n.read_at is not None


def test_cannot_mark_someone_elses_read_and_external_links_are_not_followed(
    rep_client, manager, rep
):
    theirs = notification_create(recipient=manager, kind="x", title="Theirs")
    rep_client.post(reverse("activities:notifications_read"), {"id": theirs.pk})
    theirs.refresh_from_db()
    assert theirs.read_at is None
    mine = notification_create(recipient=rep, kind="x", title="Mine", url="https://evil.example/")
    response = rep_client.post(reverse("activities:notifications_read"), {"id": mine.pk})
    assert response["Location"] == reverse("activities:notifications")


def test_mark_all_read(rep_client, rep):
    for i in range(3):
        notification_create(recipient=rep, kind="x", title=f"N{i}")
    rep_client.post(reverse("activities:notifications_read"))
    assert not Notification.objects.filter(recipient=rep, read_at__isnull=True).exists()
    assert (
        "unread"
        not in rep_client.get(reverse("activities:notifications"))
        .content.decode()
        .split("<main")[0]
    )


def test_inactive_users_get_no_notifications(rep):
    rep.is_active = False
    rep.save()
    assert notification_create(recipient=rep, kind="x", title="Nobody reads this") is None
