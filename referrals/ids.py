"""Row ids typed by people: in URLs, form fields and query strings."""

from __future__ import annotations

# The largest bigint: a bigger id names no row, and some lookups (IN on
# SQLite) overflow instead of finding nothing.
MAX_ID = 2**63 - 1


def parse_id(text: object) -> int | None:
    """The id `text` spells, or None: ASCII digits only ("²" is a digit to
    str.isdigit, but int() refuses it), small enough for a bigint, above 0."""
    text = str(text) if text is not None else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None
