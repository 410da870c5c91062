"""E-mail addresses: the two ways we compare them, and throwaway-inbox domains.

Two functions with two meanings, never to be swapped:

- `normalize_email`: the address as we store and match it (the do-not-invite
  list, one invite per address, seed imports). Only case and surrounding
  space are ignored, so we never treat two real mailboxes as one.
- `mailbox_of`: who probably reads it. Dots and `+tags` in the local part are
  dropped too, for spotting one person behind several addresses (review
  and trust signals). Never used to decide where mail goes.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from disposable_email_domains import blocklist

EXTRA_DISPOSABLE = Path(__file__).with_name("data") / "disposable_domains.txt"
# Domains that are one provider's mailboxes under another name.
SAME_PROVIDER = {"googlemail.com": "gmail.com"}


def normalize_email(address: str) -> str:
    """The stored, compared form of an address: trimmed and lower-cased."""
    return address.strip().lower()


def mailbox_of(address: str) -> str:
    """One mailbox's canonical form: lower case, no +tag, no dots in the local part.

    Gmail ignores dots and +tags; many providers honour +tags. Dots are
    dropped for every domain: for a review queue a near-identical address is
    worth a look even where the provider would deliver separately.
    """
    local, _, domain = normalize_email(address).rpartition("@")
    if not local:
        return normalize_email(address)
    local = local.split("+", 1)[0].replace(".", "")
    domain = SAME_PROVIDER.get(domain, domain)
    return f"{local}@{domain}"


def domain_of(address: str) -> str:
    """The part after the last @, lower-cased."""
    return normalize_email(address).rpartition("@")[2]


@cache
def disposable_domains() -> frozenset[str]:
    """The disposable-email-domains package's list plus our own additions."""
    extra = set()
    if EXTRA_DISPOSABLE.exists():
        for line in EXTRA_DISPOSABLE.read_text().splitlines():
            if (line := line.strip().lower()) and not line.startswith("#"):
                extra.add(line)
    return frozenset(blocklist) | extra


def is_disposable(address: str, domains: frozenset[str] | None = None) -> bool:
    """Is the address at a throwaway-inbox domain or a subdomain of one (on label boundaries)?"""
    domains = disposable_domains() if domains is None else domains
    parts = domain_of(address).split(".")
    return any(".".join(parts[i:]) in domains for i in range(len(parts) - 1))
