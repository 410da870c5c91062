"""Invite codes: unguessable, easy to read aloud and to type back.

Pure functions, no Django. Codes use Crockford's base32 alphabet (no I, L,
O or U), 15 symbols = 75 random bits, shown in three groups of five.
"""

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 15
GROUP = 5
BITS = LENGTH * 5  # 75 bits of randomness from the OS CSPRNG

# What people type for a symbol that is not in the alphabet.
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
# Spaces, and hyphens of every kind: phones and word processors turn "-" into
# en or em dashes, minus signs or non-breaking hyphens.
_IGNORED = str.maketrans("", "", " -_\t\n\r.\u00a0\u2010\u2011\u2012\u2013\u2014\u2015\u2212")


def new_code() -> str:
    """A fresh random code in canonical form (no dashes)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalize(typed: str) -> str:
    """Canonical form of a typed code: case, spaces, dashes and look-alikes ignored."""
    return (typed or "").upper().translate(_IGNORED).translate(_LOOKALIKES)


def is_well_formed(code: str) -> bool:
    """True when a canonical code has the right length and alphabet."""
    return len(code) == LENGTH and all(c in ALPHABET for c in code)


def display(code: str) -> str:
    """Grouped form for people: ABCDE-FGHJK-MNPQR."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))
