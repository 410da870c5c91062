"""Streaming exports of a campaign: members CSV, invites CSV, the tree as GraphML.

Each export is a generator of text chunks. Rows are read in keyset batches
over the primary key (`id > last` ... `LIMIT batch`, with `values_list`), so
memory stays constant and no query holds a cursor open while the client
reads slowly: a million-member export is 200 short index scans.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

from django.db.models import QuerySet
from django.utils import timezone

from referrals.models import Campaign, Invite, Member, ModerationAction, invite_status

BATCH = 5000

MEMBER_COLUMNS = [
    "id",
    "inviter_id",
    "depth",
    "join_number",
    "joined_at",
    "activated_at",
    "downline_size",
    "invitee_count",
    "activated_invitee_count",
    "username",
]
INVITE_COLUMNS = [
    "id",
    "owner_member_id",
    "max_uses",
    "uses",
    "created_at",
    "expires_at",
    "revoked_at",
    "status",
]

# Spreadsheets run a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 forbids even when escaped.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def safe_cell(text: str) -> str:
    """User text for a CSV cell: a leading apostrophe defuses formula injection."""
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def in_batches(queryset: QuerySet, fields: list[str], batch: int = BATCH) -> Iterator[tuple]:
    """Rows of `queryset` as `values_list(*fields)` tuples, id order, `batch` per query.

    The first field must be "id".
    """
    last = 0
    while True:
        rows = list(queryset.filter(id__gt=last).order_by("id").values_list(*fields)[:batch])
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1][0]


def iso_time(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat() if value else ""


def csv_lines(header: list[str], rows: Iterable[tuple]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    yield buffer.getvalue()  # the download starts before the first query
    buffer.seek(0)
    buffer.truncate()
    for count, row in enumerate(rows, 1):
        writer.writerow(row)
        if count % 1000 == 0:  # about 100 kB per chunk, not one tiny chunk per row
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def members_csv(campaign: Campaign, batch: int = BATCH) -> Iterator[str]:
    """The campaign's members, one row each, in id order."""
    fields = [*MEMBER_COLUMNS[:-1], "user__username"]  # the same columns, read from the rows
    for_csv = (
        (pk, inviter or "", depth, number or "", iso_time(joined), iso_time(activated), down, kids,
         active, safe_cell(username or ""))
        for pk, inviter, depth, number, joined, activated, down, kids, active, username
        in in_batches(Member.objects.filter(campaign=campaign), fields, batch)
    )  # fmt: skip
    return csv_lines(MEMBER_COLUMNS, for_csv)


def invites_csv(campaign: Campaign, batch: int = BATCH) -> Iterator[str]:
    """The campaign's invites (seed codes have no owner), in id order."""
    fields = [
        "id",
        "owner_id",
        "max_uses",
        "uses",
        "created_at",
        "expires_at",
        "revoked_at",
        "frozen_at",
    ]
    now = timezone.now()
    for_csv = (
        (pk, owner or "", max_uses, uses, iso_time(created), iso_time(expires), iso_time(revoked),
         invite_status(uses=uses, max_uses=max_uses, expires_at=expires, revoked_at=revoked,
                       now=now, frozen_at=frozen))
        for pk, owner, max_uses, uses, created, expires, revoked, frozen
        in in_batches(Invite.objects.filter(campaign=campaign), fields, batch)
    )  # fmt: skip
    return csv_lines(INVITE_COLUMNS, for_csv)


MODERATION_COLUMNS = ["at", "actor", "action", "member_id", "member", "reason", "details"]


def moderation_csv(campaign: Campaign) -> Iterator[str]:
    """The campaign's moderation log, oldest first (formulas defused)."""
    rows = (
        ModerationAction.objects.filter(campaign=campaign)
        .select_related("target__user")
        .order_by("at", "id")
        .iterator(chunk_size=2000)
    )
    return csv_lines(
        MODERATION_COLUMNS,
        (
            (
                iso_time(row.at),
                safe_cell(row.actor_name),
                row.action,
                row.target_id,
                safe_cell(row.target.name),
                safe_cell(row.reason),
                safe_cell(" ".join(f"{k}={v}" for k, v in row.details.items())),
            )
            for row in rows
        ),
    )


# --- GraphML -------------------------------------------------------------------

# (id, attr.name, attr.type) of the node attributes, in the order written.
GRAPHML_KEYS = [
    ("label", "label", "string"),
    ("join_number", "join_number", "int"),
    ("depth", "depth", "int"),
    ("joined", "joined", "string"),
    ("activated", "activated", "boolean"),
    ("downline_size", "downline_size", "int"),
    ("invitee_count", "invitee_count", "int"),
]


def _xml_text(text: str) -> str:
    return escape(_XML_FORBIDDEN.sub("", text))


def tree_graphml(campaign: Campaign, batch: int = BATCH) -> Iterator[str]:
    """The campaign's tree as GraphML: members as nodes, inviter -> invitee edges.

    One pass: each batch writes its nodes, then the edges into them. GraphML
    allows an edge before its source node; inviters join first, so in
    practice the source is already written.
    """
    yield (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
        'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n'
    )
    for key, name, kind in GRAPHML_KEYS:
        yield f'  <key id="{key}" for="node" attr.name="{name}" attr.type="{kind}"/>\n'
    yield f'  <graph id={quoteattr(campaign.slug)} edgedefault="directed">\n'
    fields = [
        "id",
        "inviter_id",
        "depth",
        "join_number",
        "joined_at",
        "activated_at",
        "downline_size",
        "invitee_count",
        "user__username",
        "user__display_name",
    ]
    queryset = Member.objects.filter(campaign=campaign)
    nodes: list[str] = []
    edges: list[str] = []
    for row in in_batches(queryset, fields, batch):
        pk, inviter, depth, number, joined, activated, down, kids, username, display = row
        label = display or username or "a former member"
        data = [
            ("label", _xml_text(label)),
            ("join_number", number),
            ("depth", depth),
            ("joined", iso_time(joined)),
            ("activated", "true" if activated else "false"),
            ("downline_size", down),
            ("invitee_count", kids),
        ]
        cells = "".join(f'<data key="{k}">{v}</data>' for k, v in data if v is not None)
        nodes.append(f'    <node id="m{pk}">{cells}</node>\n')
        if inviter:
            edges.append(f'    <edge source="m{inviter}" target="m{pk}"/>\n')
        if len(nodes) >= 1000:
            yield "".join(nodes) + "".join(edges)
            nodes, edges = [], []
    yield "".join(nodes) + "".join(edges)
    yield "  </graph>\n</graphml>\n"
