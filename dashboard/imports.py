"""Seed invitees from a CSV file: validate the whole file, then import all valid rows at once.

The upload is stored as an ImportJob and processed by a task
(`referrals.tasks.run_seed_import`), so a long file neither holds a web
worker nor times out; the page polls `progress()` for its progress bar.
Every row is checked first (address, duplicate in the file, already a
member, already invited, opted out) and gets a line in the report; then all
valid rows become campaign invites and outbox e-mails in ONE transaction,
so a failure imports nothing. The e-mails go out on commit.

A worker claims a job with a lease (`locked_until`) and renews it as it
goes; a job whose task never arrived (broker down at upload) or whose worker
died (lease ran out) is re-enqueued by the periodic sweep
(`referrals.tasks.sweep_seed_imports`). The import commits together with
status "done" and only while the worker still holds its claim, so however
often a job is handed out, its invites are written once.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from datetime import timedelta

from celery import shared_task
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from config.celery import enqueue_on_commit
from referrals import outbox
from referrals.addresses import normalize_email
from referrals.models import (
    Campaign,
    DoNotInvite,
    ImportJob,
    Invite,
    InviteEvent,
    Member,
    OutboundEmail,
)
from referrals.text import plain_text

logger = logging.getLogger(__name__)

MAX_BYTES = 2_000_000
NAME_MAX = 80  # Invite.recipient_name: the e-mail greets the person by it
MAX_ROWS = 10_000
MAX_NAME = 150
_LOOKUP_CHUNK = 500
_WRITE_CHUNK = 250
_PROGRESS_KEY = "import:{}:progress"
_EMAIL_HEADERS = {"email", "e-mail", "email address", "e-mail address", "mail"}
# A 10,000-row file validates and imports in seconds; the lease is renewed on
# every chunk, so only a dead worker lets it run out.
LEASE = timedelta(minutes=10)
STUCK_AFTER = timedelta(minutes=2)  # queued this long: its task was lost
MAX_ATTEMPTS = 3  # a file that kills its worker every time is given up on


class LeaseLost(Exception):
    """Another worker took this job over; this one must write nothing."""


class ImportRefused(Exception):
    """The file as a whole cannot be imported; `message` says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Row:
    line: int
    name: str
    email: str


def decode(data: bytes) -> str:
    """The uploaded bytes as text; ImportRefused when they are not a UTF-8 text file."""
    if len(data) > MAX_BYTES:
        raise ImportRefused(f"The file is larger than {MAX_BYTES // 1_000_000} MB.")
    if b"\x00" in data:
        # UTF-16 exports and binary files; PostgreSQL also refuses NUL in text.
        raise ImportRefused(
            "The file is not a UTF-8 text file (it contains NUL bytes). "
            "Save it as “CSV UTF-8” and try again."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused(
            "The file is not UTF-8 text. Save it as “CSV UTF-8” and try again."
        ) from None


def delimiter_of(text: str) -> str:
    """The file's separator, from its first line: ',' unless that line has none and
    has ';' (Excel in much of Europe) or a tab (copied from a spreadsheet)."""
    first = text.lstrip("\r\n").split("\n", 1)[0]
    if "," not in first:
        for candidate in (";", "\t"):
            if candidate in first:
                return candidate
    return ","


def parse(text: str) -> list[Row]:
    """The CSV's rows (name, e-mail) with their line numbers; ImportRefused for a bad file."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter_of(text))
    lines: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):  # blank lines are skipped, not reported
                lines.append((reader.line_num, cells))
            if len(lines) > MAX_ROWS + 1:
                raise ImportRefused(f"The file has more than {MAX_ROWS:,} rows; split it up.")
    except csv.Error as exc:
        raise ImportRefused(f"This is not a readable CSV file ({exc}).") from None
    if not lines:
        raise ImportRefused("The file is empty.")
    header = [cell.strip().lower() for cell in lines[0][1]]
    email_col = next((i for i, cell in enumerate(header) if cell in _EMAIL_HEADERS), None)
    if email_col is not None:
        name_col = next((i for i, cell in enumerate(header) if cell in {"name", "full name"}), None)
        body = lines[1:]
    elif len(header) == 2 and "@" in header[1]:
        name_col, email_col, body = 0, 1, lines  # no header row: name, e-mail
    else:
        raise ImportRefused(
            "The first row must name the columns, e.g. “name,email”: no e-mail column found."
        )
    if not body:
        raise ImportRefused("The file has a header but no rows.")
    if len(body) > MAX_ROWS:
        raise ImportRefused(f"The file has more than {MAX_ROWS:,} rows; split it up.")
    return [
        Row(line=line, name=_cell(cells, name_col), email=_cell(cells, email_col))
        for line, cells in body
    ]


def _cell(cells: list[str], index: int | None) -> str:
    return cells[index].strip() if index is not None and index < len(cells) else ""


def validate(rows: list[Row], campaign: Campaign, on_progress=None) -> tuple[list[Row], list[dict]]:
    """Split rows into those to invite and a report of the rejected ones, with reasons."""
    rejected: list[dict] = []
    candidates: list[Row] = []
    first_seen: dict[str, int] = {}
    for row in rows:
        reason = None
        address = normalize_email(row.email)
        if not address:
            reason = "no e-mail address"
        else:
            try:
                validate_email(address)
            except ValidationError:
                reason = "not a valid e-mail address"
        if reason is None and len(row.name) > MAX_NAME:
            reason = f"name longer than {MAX_NAME} characters"
        if reason is None and address in first_seen:
            reason = f"duplicate of line {first_seen[address]}"
        if reason:
            rejected.append(_rejection(row, reason))
            continue
        first_seen[address] = row.line
        candidates.append(Row(line=row.line, name=row.name, email=address))
    valid: list[Row] = []
    for start in range(0, len(candidates), _LOOKUP_CHUNK):
        chunk = candidates[start : start + _LOOKUP_CHUNK]
        refused = _already_there(campaign, [row.email for row in chunk])
        for row in chunk:
            if row.email in refused:
                rejected.append(_rejection(row, refused[row.email]))
            else:
                valid.append(row)
        if on_progress:
            on_progress(start + len(chunk), len(candidates))
    rejected.sort(key=lambda item: item["line"])
    return valid, rejected


def _already_there(campaign: Campaign, addresses: list[str]) -> dict[str, str]:
    """Why some of these addresses may not be invited: {address: reason}, three queries."""
    reasons: dict[str, str] = {}
    for address in Invite.objects.filter(
        campaign=campaign, recipient_email__in=addresses, revoked_at__isnull=True
    ).values_list("recipient_email", flat=True):
        reasons[address] = "already invited to this campaign"
    members = (
        Member.objects.filter(campaign=campaign)
        .annotate(address=Lower("user__email"))
        .filter(address__in=addresses)
        .values_list("address", flat=True)
    )
    for address in members:
        reasons[address] = "already a member of this campaign"
    for address in DoNotInvite.objects.filter(email__in=addresses).values_list("email", flat=True):
        reasons[address] = "asked not to be invited (opted out)"
    return reasons


def _rejection(row: Row, reason: str) -> dict:
    return {"line": row.line, "name": row.name, "email": row.email, "reason": reason}


def start(*, campaign: Campaign, user, filename: str, data: bytes, note: str = "") -> ImportJob:
    """Store an uploaded file as an ImportJob and queue its import; ImportRefused for a bad file."""
    text = decode(data)
    rows = parse(text)  # file-level problems are reported at once, before queueing
    with transaction.atomic():
        job = ImportJob.objects.create(
            campaign=campaign,
            created_by=user,
            filename=filename[:200],
            content=text,
            note=note,
            total_rows=len(rows),
        )
        _enqueue(job.pk)
    return job


def _enqueue(job_id: int) -> None:
    # Broker down: the job stays queued and the sweep enqueues it later.
    enqueue_on_commit(run_seed_import, job_id, what=f"seed import {job_id}")


def _lapsed(now) -> Q:
    # NULL: a job left running before jobs had leases.
    return Q(status=ImportJob.Status.RUNNING) & (
        Q(locked_until__lt=now) | Q(locked_until__isnull=True)
    )


def _claim(job_id: int) -> int | None:
    """Take a queued job, or one whose worker's lease ran out; the attempt number, or None."""
    now = timezone.now()
    claimed = (
        ImportJob.objects.filter(pk=job_id)
        .filter(Q(status=ImportJob.Status.QUEUED) | _lapsed(now), attempts__lt=MAX_ATTEMPTS)
        .update(
            status=ImportJob.Status.RUNNING,
            attempts=F("attempts") + 1,
            started_at=now,
            locked_until=now + LEASE,
        )
    )
    if not claimed:
        return None
    return ImportJob.objects.values_list("attempts", flat=True).get(pk=job_id)


def _renew(job_id: int, attempt: int) -> None:
    """Extend this worker's lease; LeaseLost if another worker has taken the job over."""
    if not ImportJob.objects.filter(
        pk=job_id, status=ImportJob.Status.RUNNING, attempts=attempt
    ).update(locked_until=timezone.now() + LEASE):
        raise LeaseLost


def run(*, job_id: int) -> str:
    """Validate and import one job, exactly once however often it is handed out."""
    attempt = _claim(job_id)
    if attempt is None:
        return "busy"  # done, failed, or another worker holds the lease
    job = ImportJob.objects.select_related("campaign").get(pk=job_id)

    def on_progress(done: int, total: int) -> None:
        _renew(job_id, attempt)
        _set_progress(job_id, "validating", done, total)

    try:
        rows = parse(job.content)
        _set_progress(job_id, "validating", 0, len(rows))
        valid, rejected = validate(rows, job.campaign, on_progress=on_progress)
        _import(job, attempt, valid, rejected)
    except LeaseLost:
        logger.warning("seed import %s was taken over by another worker", job_id)
        return "busy"
    except ImportRefused as refused:
        return _fail(job, attempt, refused.message)
    except Exception:
        logger.exception("seed import %s failed", job_id)
        return _fail(job, attempt, "Something went wrong while importing; nothing was imported.")
    cache.delete(_PROGRESS_KEY.format(job_id))
    return "done"


def _import(job: ImportJob, attempt: int, valid: list[Row], rejected: list[dict]) -> None:
    """All valid rows become seed invites with their e-mail, committed with status done."""
    campaign = job.campaign
    now = timezone.now()
    expiry = campaign.code_expiry()
    with transaction.atomic():
        # Locks the job row until commit. A worker that takes over a lapsed
        # lease meanwhile waits on this lock and then finds the job done; a
        # worker that was taken over before this point writes nothing.
        _renew(job.pk, attempt)
        # One import of a campaign at a time, from here to commit (NO KEY UPDATE
        # leaves signups' foreign-key checks on the campaign row alone). Then
        # look again: the same file uploaded twice and run side by side must
        # not invite anyone twice.
        Campaign.objects.select_for_update(no_key=True).filter(pk=campaign.pk).exists()
        valid, rejected = _recheck(campaign, valid, rejected)
        for start in range(0, len(valid), _WRITE_CHUNK):
            chunk = valid[start : start + _WRITE_CHUNK]
            invites = Invite.objects.bulk_create(
                [
                    Invite(
                        campaign=campaign,
                        max_uses=1,
                        expires_at=now + expiry if expiry else None,
                        recipient_email=row.email,
                        recipient_name=plain_text(row.name)[:NAME_MAX],
                        note=job.note,
                        created_at=now,
                        import_job_id=job.pk,
                    )
                    for row in chunk
                ]
            )
            InviteEvent.objects.bulk_create(
                [InviteEvent(invite=i, kind=InviteEvent.Kind.CREATED, at=now) for i in invites]
            )
            queued = OutboundEmail.objects.bulk_create(
                [
                    OutboundEmail(
                        key=f"invite:{i.pk}:1",
                        kind=OutboundEmail.Kind.INVITE,
                        to_email=i.recipient_email,
                        invite=i,
                        created_at=now,
                    )
                    for i in invites
                ]
            )
            for row in queued:
                outbox.enqueue_delivery(row.pk)
            # The cache is outside the transaction, so the page sees this live.
            _set_progress(job.pk, "importing", start + len(chunk), len(valid))
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.DONE,
            total_rows=len(valid) + len(rejected),
            imported=len(valid),
            rejected=len(rejected),
            report=rejected,
            content="",
            locked_until=None,
            finished_at=timezone.now(),
        )


def _recheck(campaign: Campaign, valid: list[Row], rejected: list[dict]):
    """Move rows invited meanwhile (by another import or a member) to the rejected ones."""
    late: dict[str, str] = {}
    for start in range(0, len(valid), _LOOKUP_CHUNK):
        late.update(
            _already_there(campaign, [row.email for row in valid[start : start + _LOOKUP_CHUNK]])
        )
    if not late:
        return valid, rejected
    rejected = sorted(
        rejected + [_rejection(row, late[row.email]) for row in valid if row.email in late],
        key=lambda item: item["line"],
    )
    return [row for row in valid if row.email not in late], rejected


def _fail(job: ImportJob, attempt: int, message: str) -> str:
    failed = ImportJob.objects.filter(
        pk=job.pk, status=ImportJob.Status.RUNNING, attempts=attempt
    ).update(
        status=ImportJob.Status.FAILED, error=message, locked_until=None, finished_at=timezone.now()
    )
    if not failed:
        return "busy"  # another worker took the job over; its outcome stands
    cache.delete(_PROGRESS_KEY.format(job.pk))
    return "failed"


def sweep(now=None) -> list[int]:
    """Ids of jobs no live task will run (queued too long, lease ran out); fails repeat stalls."""
    now = now or timezone.now()
    ImportJob.objects.filter(_lapsed(now), attempts__gte=MAX_ATTEMPTS).update(
        status=ImportJob.Status.FAILED,
        error=(
            f"The import stopped {MAX_ATTEMPTS} times before finishing; nothing was imported. "
            "Try a smaller file."
        ),
        locked_until=None,
        finished_at=now,
    )
    return list(
        ImportJob.objects.filter(
            Q(status=ImportJob.Status.QUEUED, created_at__lt=now - STUCK_AFTER) | _lapsed(now)
        )
        .order_by("created_at")
        .values_list("id", flat=True)[:100]
    )


def _set_progress(job_id: int, phase: str, done: int, total: int) -> None:
    cache.set(_PROGRESS_KEY.format(job_id), {"phase": phase, "done": done, "total": total}, 3600)


def progress(job: ImportJob) -> dict:
    """What the progress bar shows: status, phase and percent (validating is the first half)."""
    status = {
        "status": job.status,
        "finished": job.is_finished,
        "imported": job.imported,
        "rejected": job.rejected,
        "total": job.total_rows,
        "error": job.error,
    }
    if job.is_finished:
        return status | {"phase": job.status, "percent": 100}
    live = cache.get(_PROGRESS_KEY.format(job.pk)) or {"phase": "queued", "done": 0, "total": 0}
    share = live["done"] / live["total"] if live["total"] else 0
    percent = share * 50 + (50 if live["phase"] == "importing" else 0)
    return status | {"phase": live["phase"], "percent": round(percent)}


# --- Tasks (beside what they run; names kept from referrals.tasks for queued messages) ---


@shared_task(name="referrals.tasks.run_seed_import", ignore_result=True)
def run_seed_import(job_id: int) -> str:
    """Validate and import one uploaded CSV of seed invitees; safe to run twice."""
    return run(job_id=job_id)


@shared_task(name="referrals.tasks.sweep_seed_imports", ignore_result=True)
def sweep_seed_imports() -> int:
    """Re-enqueue seed imports whose task was lost (broker down, worker killed)."""
    stalled = sweep()
    for job_id in stalled:
        run_seed_import.delay(job_id)
    return len(stalled)
