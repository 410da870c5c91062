"""The one lock behind the tree's counters: folds and moves run one at a time.

Signups never take it. On SQLite (one writer at a time anyway) it is a no-op.
"""

from __future__ import annotations

from django.db import connection

# Any fixed 64-bit number; names the advisory lock on PostgreSQL.
_KEY = 0x7061_7373_616C_6F6E & 0x7FFF_FFFF_FFFF_FFFF


def lock_the_tree() -> None:
    """Hold the tree's lock until the transaction ends."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_KEY])
