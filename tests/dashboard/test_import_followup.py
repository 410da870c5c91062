"""After a seed import the marketer sees how far each person got, resends to those who
never opened, and downloads everyone's status."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from dashboard import followup, imports
from referrals import outbox, services
from referrals.models import Campaign, ImportJob, Invite, OutboundEmail
from tests.helpers import deliver_outbox, make_user, marketer_of

PEOPLE = """name,email
Ann Active,ann@example.com
Joe Joined,joe@example.com
Ola Opened,ola@example.com
Sam Sent,sam@example.com
Ned Nope,ned@example.com
=HYPERLINK("x"),rev@example.com
"""


@pytest.fixture
def imported(client, mara, campaign):
    """The six people above, each at a different step (Rev's invite is revoked)."""
    client.force_login(mara)
    client.post(
        "/dashboard/default/seed/import/",
        {"file": SimpleUploadedFile("people.csv", PEOPLE.encode(), "text/csv"), "note": ""},
    )
    job = ImportJob.objects.get()
    imports.run(job_id=job.pk)  # the worker's part; its e-mails wait in the outbox
    outbox.opt_out(address="ned@example.com")  # after the import, before delivery
    deliver_outbox()
    invite = {i.recipient_email: i for i in Invite.objects.filter(import_job=job)}
    services.record_open(invite_id=invite["ola@example.com"].pk, visitor="v1")
    services.redeem_invite(code=invite["joe@example.com"].code, user=make_user("joe"))
    ann = services.redeem_invite(code=invite["ann@example.com"].code, user=make_user("ann"))
    assert services.activate_member(member=ann)
    services.revoke_invite(invite=invite["rev@example.com"])
    return job


def stages_on_page(client, job, query=""):
    page = client.get(f"/dashboard/default/imports/{job.pk}/{query}")
    assert page.status_code == 200
    return page


def test_each_imported_person_shows_the_furthest_step_they_got_to(client, imported):
    people = {p.email: p for p in followup.people(imported)}
    assert {email: p.stage for email, p in people.items()} == {
        "ann@example.com": "active",
        "joe@example.com": "joined",
        "ola@example.com": "opened",
        "sam@example.com": "sent",
        "ned@example.com": "not delivered",
        "rev@example.com": "sent",
    }
    assert people["rev@example.com"].invite == "revoked"
    assert people["joe@example.com"].joined_at is not None
    summary = followup.summary(imported)
    assert summary.stages == {
        "queued": 0,
        "not delivered": 1,
        "sent": 2,
        "opened": 1,
        "joined": 1,
        "active": 1,
    }
    page = stages_on_page(client, imported).content.decode()
    assert 'data-stage="sent">2<' in page
    assert 'data-stage="active">1<' in page
    # Filtering by a step lists only the people at it.
    filtered = stages_on_page(client, imported, "?stage=opened").content.decode()
    assert "ola@example.com" in filtered and "sam@example.com" not in filtered


def test_resend_goes_once_a_day_to_open_invites_never_opened(client, imported):
    # Just sent: nobody may be resent to yet, and the page says when.
    page = stages_on_page(client, imported).content.decode()
    assert 'data-testid="resend"' not in page
    assert "1 who never opened was e-mailed less than a day ago" in page
    OutboundEmail.objects.update(created_at=timezone.now() - timedelta(days=2))
    page = stages_on_page(client, imported).content.decode()
    assert "Resend to 1 who never opened" in page  # Sam; Rev's invite is revoked

    response = client.post(f"/dashboard/default/imports/{imported.pk}/resend/", follow=True)
    assert "Invite sent again to 1 person." in response.content.decode()
    again = OutboundEmail.objects.filter(created_at__gt=timezone.now() - timedelta(hours=1))
    assert [(e.to_email, e.key.rsplit(":", 1)[1]) for e in again] == [("sam@example.com", "2")]

    # The form posted twice (or a second marketer): no second e-mail.
    response = client.post(f"/dashboard/default/imports/{imported.pk}/resend/", follow=True)
    assert "Nobody to resend to now" in response.content.decode()
    assert again.count() == 1
    deliver_outbox()
    assert OutboundEmail.objects.get(key__endswith=":2").status == "sent"


def test_three_e_mails_is_the_most_an_imported_person_gets(client, imported):
    for _ in range(4):
        OutboundEmail.objects.update(created_at=timezone.now() - timedelta(days=2))
        client.post(f"/dashboard/default/imports/{imported.pk}/resend/")
        deliver_outbox()
    sam = OutboundEmail.objects.filter(to_email="sam@example.com")
    assert sam.count() == 3
    assert followup.summary(imported).resend_used_up == 1


def test_everyone_s_status_downloads_as_csv_with_formulas_kept_as_text(client, imported):
    response = client.get(f"/dashboard/default/imports/{imported.pk}/people.csv")
    assert response["Content-Disposition"] == (
        f'attachment; filename="import-{imported.pk}-people.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["email"] for r in rows] == [
        "ann@example.com",
        "joe@example.com",
        "ola@example.com",
        "sam@example.com",
        "ned@example.com",
        "rev@example.com",
    ]
    ann = rows[0]
    assert (ann["status"], ann["invite"], ann["emails_sent"]) == ("active", "redeemed", "1")
    assert ann["joined_at"] and ann["activated_at"]
    assert rows[-1]["name"] == '\'=HYPERLINK("x")'
    assert rows[-1]["invite"] == "revoked"


def test_another_campaign_s_marketer_sees_no_follow_up(client, imported, campaign):
    other = Campaign.objects.create(slug="other", name="Other")
    client.force_login(marketer_of(other, "omar"))
    assert client.get(f"/dashboard/default/imports/{imported.pk}/people.csv").status_code == 404
    assert client.post(f"/dashboard/default/imports/{imported.pk}/resend/").status_code == 404
    assert OutboundEmail.objects.filter(key__endswith=":2").count() == 0
