"""Seeding a campaign: seed codes as CSV, and seed invitees from an uploaded CSV."""

import csv
import io
import logging
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError
from django.utils import timezone
from kombu.exceptions import OperationalError

from dashboard import imports
from dashboard.tasks import run_seed_import, sweep_seed_imports
from referrals import emails, outbox
from referrals.models import ImportJob, Invite, OutboundEmail
from tests.helpers import make_user

MIXED = """name,email
Zoe Zhang,zoe@example.com
Bad Address,not-an-address
Zoe again,ZOE@example.com

Alice,alice@example.com
Taken,taken@example.com
Nope,nope@example.com
Yan Yu, yan@example.com
"""


@pytest.fixture
def crowded(alice):
    """An address already invited, and one that opted out."""
    emails.invite_by_email(member=alice, address="taken@example.com")
    outbox.opt_out(address="nope@example.com")


def upload(client, text, name="seeds.csv", note="Welcome aboard!", capture=None):
    return client.post(
        "/dashboard/default/seed/import/",
        {"file": SimpleUploadedFile(name, text.encode(), "text/csv"), "note": note},
    )


def finish(job_id):
    """Stand in for the worker when a broker is configured; eager runs are done already."""
    imports.run(job_id=job_id)
    return ImportJob.objects.get(pk=job_id)


def test_generated_seed_codes_download_as_csv(client, mara, campaign):
    client.force_login(mara)
    response = client.post("/dashboard/default/seed/codes.csv", {"count": 5, "uses": 2})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["code", "link", "uses", "expires_at"]
    assert len(rows) == 6
    seeds = Invite.objects.filter(campaign=campaign, owner__isnull=True, max_uses=2)
    assert seeds.count() == 5
    assert {row[0] for row in rows[1:]} == {invite.display_code for invite in seeds}


def test_too_many_seed_codes_are_refused_with_a_message(client, mara):
    client.force_login(mara)
    response = client.post("/dashboard/default/seed/codes.csv", {"count": 999999, "uses": 1})
    assert response.status_code == 200
    assert "Ensure this value is less than or equal to 5000" in response.content.decode()
    assert not Invite.objects.filter(owner__isnull=True).exists()


def test_every_rejected_row_is_reported_with_its_reason(
    client, mara, crowded, django_capture_on_commit_callbacks
):
    client.force_login(mara)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, MIXED)
    job = finish(ImportJob.objects.get().pk)
    assert response["Location"] == f"/dashboard/default/imports/{job.pk}/"
    assert (job.status, job.total_rows, job.imported, job.rejected) == ("done", 7, 2, 5)
    assert [(r["line"], r["reason"]) for r in job.report] == [
        (3, "not a valid e-mail address"),
        (4, "duplicate of line 2"),
        (6, "already a member of this campaign"),
        (7, "already invited to this campaign"),
        (8, "asked not to be invited (opted out)"),
    ]
    page = client.get(response["Location"]).content.decode()
    assert "duplicate of line 2" in page and "Rejected rows" in page


def test_valid_rows_become_seed_invites_each_with_a_personal_email(
    client, mara, crowded, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(mara)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, MIXED)
        finish(ImportJob.objects.get().pk)
    seeds = Invite.objects.filter(owner__isnull=True).exclude(recipient_email="")
    seeds = seeds.order_by("recipient_email")
    assert [i.recipient_email for i in seeds] == ["yan@example.com", "zoe@example.com"]
    queued = OutboundEmail.objects.filter(invite__in=seeds, kind="invite")
    assert queued.count() == 2
    for row in queued.filter(status="pending"):  # a broker is configured but no worker runs
        outbox.deliver(row.pk)
    message = next(m for m in mailoutbox if m.to == ["zoe@example.com"])
    assert message.subject == "You're invited to Passalong beta"
    assert "Welcome aboard!" in message.body
    zoe = seeds.get(recipient_email="zoe@example.com")
    assert f"/i/{zoe.code}/" in message.body
    assert not any(m.to == ["nope@example.com"] for m in mailoutbox)


def test_a_file_without_an_email_column_imports_nothing(client, mara):
    client.force_login(mara)
    response = upload(client, "first,last\nZoe,Zhang\n")
    assert response.status_code == 400
    assert "no e-mail column found" in response.content.decode()
    assert "Nothing was imported" in response.content.decode()
    assert not ImportJob.objects.exists() and not Invite.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "file is empty"),
        (b"name,email\n", "a header but no rows"),
        ("name,email\nZoë,zoe@example.com\n".encode("latin-1"), "not UTF-8"),
    ],
)
def test_bad_files_are_refused_whole_with_a_clear_message(client, mara, content, message):
    client.force_login(mara)
    response = client.post(
        "/dashboard/default/seed/import/",
        {"file": SimpleUploadedFile("x.csv", content, "text/csv")},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_file_without_a_header_is_read_as_name_then_email(campaign):
    rows = imports.parse("Zoe,zoe@example.com\nYan,yan@example.com\n")
    assert [(r.line, r.name, r.email) for r in rows] == [
        (1, "Zoe", "zoe@example.com"),
        (2, "Yan", "yan@example.com"),
    ]


def test_a_failure_halfway_through_imports_nothing(campaign, mara, monkeypatch):
    lines = "\n".join(f"Person {n},p{n}@example.com" for n in range(10))
    job = ImportJob.objects.create(campaign=campaign, created_by=mara, content=lines)
    monkeypatch.setattr(imports, "_WRITE_CHUNK", 3)
    real = OutboundEmail.objects.bulk_create
    calls = []

    def second_batch_fails(objs, *args, **kwargs):
        calls.append(len(objs))
        if len(calls) == 2:
            raise DatabaseError("disk full")  # the outside world failing mid-import
        return real(objs, *args, **kwargs)

    monkeypatch.setattr(OutboundEmail.objects, "bulk_create", second_batch_fails)
    assert imports.run(job_id=job.pk) == "failed"
    job.refresh_from_db()
    assert job.status == "failed" and "nothing was imported" in job.error
    assert not Invite.objects.exists() and not OutboundEmail.objects.exists()


def test_an_import_runs_once_however_often_its_task_is_delivered(campaign, mara):
    job = ImportJob.objects.create(
        campaign=campaign, created_by=mara, content="Zoe,zoe@example.com"
    )
    assert imports.run(job_id=job.pk) == "done"
    assert imports.run(job_id=job.pk) == "busy"
    assert Invite.objects.filter(recipient_email="zoe@example.com").count() == 1


def test_the_status_endpoint_reports_progress_for_the_bar(client, mara, campaign):
    job = ImportJob.objects.create(
        campaign=campaign, created_by=mara, content="Zoe,zoe@example.com"
    )
    client.force_login(mara)
    status = client.get(f"/dashboard/default/imports/{job.pk}/status.json").json()
    assert (status["status"], status["finished"], status["percent"]) == ("queued", False, 0)
    imports.run(job_id=job.pk)
    status = client.get(f"/dashboard/default/imports/{job.pk}/status.json").json()
    assert (status["status"], status["finished"], status["percent"]) == ("done", True, 100)
    assert status["imported"] == 1


def test_another_campaigns_marketer_cannot_see_an_import(client, campaign, mara):
    from referrals.models import Campaign

    job = ImportJob.objects.create(
        campaign=campaign, created_by=mara, content="Zoe,zoe@example.com"
    )
    other = Campaign.objects.create(slug="other", name="Other")
    outsider = make_user("otto")
    outsider.groups.add(Group.objects.get(name="marketers"))
    other.marketers.add(outsider)
    client.force_login(outsider)
    assert client.get(f"/dashboard/default/imports/{job.pk}/status.json").status_code == 404
    assert client.get(f"/dashboard/other/imports/{job.pk}/status.json").status_code == 404


def test_the_rejected_rows_download_keeps_formulas_as_text(client, mara, campaign):
    job = ImportJob.objects.create(
        campaign=campaign, created_by=mara, content="name,email\n=HYPERLINK(1),bad\n"
    )
    imports.run(job_id=job.pk)
    client.force_login(mara)
    body = client.get(f"/dashboard/default/imports/{job.pk}/rejected.csv").content.decode()
    assert "'=HYPERLINK(1)" in body


# --- Lost tasks: a killed worker, a broker that is down -----------------------


def left_running(campaign, user, *, lease_ends, attempts=1) -> ImportJob:
    """A job a worker claimed and never finished; its transaction died with it: no invites."""
    return ImportJob.objects.create(
        campaign=campaign,
        created_by=user,
        content="Zoe,zoe@example.com\nYan,yan@example.com",
        status="running",
        attempts=attempts,
        started_at=timezone.now() - imports.LEASE,
        locked_until=lease_ends,
    )


@pytest.mark.parametrize("lease_ends", [timedelta(seconds=-1), None], ids=["lapsed", "no-lease"])
def test_a_job_whose_worker_was_killed_is_completed_once_by_the_sweep(campaign, mara, lease_ends):
    job = left_running(campaign, mara, lease_ends=lease_ends and timezone.now() + lease_ends)

    assert sweep_seed_imports.apply().get() == 1
    # Without a broker the sweep imported in-process; with one, it queued the
    # task and this call does what the worker would. Once either way.
    job = finish(job.pk)
    assert (job.status, job.imported, job.attempts) == ("done", 2, 2)
    assert job.locked_until is None
    assert sweep_seed_imports.apply().get() == 0
    assert imports.run(job_id=job.pk) == "busy"
    assert Invite.objects.filter(recipient_email="zoe@example.com").count() == 1
    assert OutboundEmail.objects.filter(to_email="zoe@example.com").count() == 1


def test_the_sweep_leaves_a_job_whose_lease_is_live_to_its_worker(campaign, mara):
    job = left_running(campaign, mara, lease_ends=timezone.now() + timedelta(minutes=1))

    assert sweep_seed_imports.apply().get() == 0
    assert imports.run(job_id=job.pk) == "busy"  # a redelivered task backs off too
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("running", 1)
    assert not Invite.objects.exists()


def test_a_job_that_stopped_its_worker_every_time_is_given_up(campaign, mara):
    job = left_running(
        campaign,
        mara,
        lease_ends=timezone.now() - timedelta(seconds=1),
        attempts=imports.MAX_ATTEMPTS,
    )

    assert sweep_seed_imports.apply().get() == 0
    job.refresh_from_db()
    assert job.status == "failed"
    assert f"stopped {imports.MAX_ATTEMPTS} times" in job.error
    assert "nothing was imported" in job.error
    assert imports.run(job_id=job.pk) == "busy"
    assert not Invite.objects.exists()


def test_a_worker_that_lost_its_lease_midway_writes_nothing(campaign, mara, monkeypatch):
    job = ImportJob.objects.create(
        campaign=campaign, created_by=mara, content="Zoe,zoe@example.com"
    )
    validate = imports.validate
    second_worker = []

    def stalls_past_its_lease(rows, campaign, on_progress=None):
        checked = validate(rows, campaign)
        # The first worker hangs (a long GC pause, a frozen VM) until its
        # lease runs out; the sweep hands the job to a second worker.
        ImportJob.objects.filter(pk=job.pk).update(locked_until=timezone.now())
        monkeypatch.setattr(imports, "validate", validate)
        second_worker.append(imports.run(job_id=job.pk))
        return checked

    monkeypatch.setattr(imports, "validate", stalls_past_its_lease)
    assert imports.run(job_id=job.pk) == "busy"
    assert second_worker == ["done"]
    job.refresh_from_db()
    assert (job.status, job.imported, job.attempts) == ("done", 1, 2)
    assert Invite.objects.filter(recipient_email="zoe@example.com").count() == 1


def test_the_same_file_imported_twice_side_by_side_invites_each_person_once(
    campaign, mara, monkeypatch
):
    content = "Zoe,zoe@example.com\nYan,yan@example.com"
    first = ImportJob.objects.create(campaign=campaign, created_by=mara, content=content)
    second = ImportJob.objects.create(campaign=campaign, created_by=mara, content=content)
    validate = imports.validate

    def the_second_upload_runs_meanwhile(rows, campaign, on_progress=None):
        checked = validate(rows, campaign)  # both addresses still look new here
        monkeypatch.setattr(imports, "validate", validate)
        assert imports.run(job_id=second.pk) == "done"
        return checked

    monkeypatch.setattr(imports, "validate", the_second_upload_runs_meanwhile)
    assert imports.run(job_id=first.pk) == "done"
    first.refresh_from_db()
    second.refresh_from_db()
    assert (second.imported, first.imported, first.rejected) == (2, 0, 2)
    assert {row["reason"] for row in first.report} == {"already invited to this campaign"}
    for address in ("zoe@example.com", "yan@example.com"):
        assert Invite.objects.filter(recipient_email=address).count() == 1
        assert OutboundEmail.objects.filter(to_email=address).count() == 1


def test_an_upload_while_the_broker_is_down_stays_queued_until_the_sweep(
    client, mara, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        # What Celery raises when Redis refuses the connection.
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(run_seed_import, "apply_async", broker_down)
    client.force_login(mara)
    with (
        caplog.at_level(logging.WARNING, logger="dashboard.imports"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = upload(client, "name,email\nZoe,zoe@example.com\n")
    job = ImportJob.objects.get()
    assert response["Location"] == f"/dashboard/default/imports/{job.pk}/"
    assert (job.status, job.error) == ("queued", "")
    assert f"could not enqueue seed import {job.pk}" in caplog.text
    page = client.get(response["Location"]).content.decode()
    assert "data-import-progress" in page and "import-error" not in page  # waiting, not failed

    monkeypatch.undo()  # the broker is back
    assert sweep_seed_imports.apply().get() == 0  # a fresh upload's task may still be on its way
    ImportJob.objects.filter(pk=job.pk).update(
        created_at=job.created_at - imports.STUCK_AFTER - timedelta(seconds=1)
    )
    assert sweep_seed_imports.apply().get() == 1
    job = finish(job.pk)
    assert (job.status, job.imported) == ("done", 1)
    assert Invite.objects.filter(recipient_email="zoe@example.com").count() == 1


def test_celery_beat_runs_the_import_sweep(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-seed-imports"]
    assert entry["task"] == "referrals.tasks.sweep_seed_imports"
    assert entry["schedule"] <= 60


def test_the_personal_invite_greets_each_person_by_the_name_in_the_file(
    client, mara, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(mara)
    rows = (
        "name,email\n"
        "Zoë Zhang,zoe@example.com\n"
        "<b>Yan</b>\u202e Yu,yan@example.com\n"
        ",nameless@example.com\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, rows)
        finish(ImportJob.objects.get().pk)
    for row in OutboundEmail.objects.filter(kind="invite", status="pending"):
        outbox.deliver(row.pk)
    sent = {m.to[0]: m for m in mailoutbox}
    zoe = sent["zoe@example.com"]
    assert zoe.body.startswith("Hi Zoë Zhang,")
    assert "Hi Zoë Zhang," in zoe.alternatives[0][0]
    yan = sent["yan@example.com"]
    assert yan.body.startswith("Hi <b>Yan</b> Yu,")  # plain text: shown as typed, less the override
    assert "Hi &lt;b&gt;Yan&lt;/b&gt; Yu," in yan.alternatives[0][0]  # HTML: escaped
    assert sent["nameless@example.com"].body.startswith("Hi,")
