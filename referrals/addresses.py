"""E-mail addresses: the two ways we compare them, and throwaway-inbox domains.

Two functions with two meanings, never to be swapped:

- `normalize_email`: the address as we store and match it (the do-not-invite
  list, one invite per address, seed imports). Only case and surrounding
  space are ignored, so we never treat two real mailboxes as one.
- `mailbox_of`: who probably reads it. Dots and `+tags` in the local part are
  dropped too, where the provider ignores them (PROVIDERS, the one list), for
  spotting one person behind several addresses (review and trust signals).
  Never used to decide where mail goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from disposable_email_domains import blocklist

EXTRA_DISPOSABLE = Path(__file__).with_name("data") / "disposable_domains.txt"
# Domains that are one provider's mailboxes under another name.
SAME_PROVIDER = {"googlemail.com": "gmail.com"}


@dataclass(frozen=True)
class Provider:
    ignores_dots: bool  # j.doe and jdoe are one mailbox
    plus_tags: bool  # jdoe+news reaches jdoe


# Providers whose rules we know; any other domain keeps its address as written.
PROVIDERS = {
    "gmail.com": Provider(ignores_dots=True, plus_tags=True),
    "outlook.com": Provider(ignores_dots=False, plus_tags=True),
    "hotmail.com": Provider(ignores_dots=False, plus_tags=True),
    "live.com": Provider(ignores_dots=False, plus_tags=True),
    "icloud.com": Provider(ignores_dots=False, plus_tags=True),
    "me.com": Provider(ignores_dots=False, plus_tags=True),
    "fastmail.com": Provider(ignores_dots=False, plus_tags=True),
    "proton.me": Provider(ignores_dots=False, plus_tags=True),
    "protonmail.com": Provider(ignores_dots=False, plus_tags=True),
    "pm.me": Provider(ignores_dots=False, plus_tags=True),
}


def normalize_email(address: str) -> str:
    """The stored, compared form of an address: trimmed and lower-cased."""
    return address.strip().lower()


def mailbox_of(address: str) -> str:
    """One mailbox's canonical form: lower case, less what its provider ignores.

    Gmail ignores dots and +tags; Outlook, iCloud, Fastmail and Proton honour
    +tags. Other domains keep their address as written: two real people can
    be j.doe@ and jdoe@ at a company, and a hold on their credit would wrong one.
    """
    local, _, domain = normalize_email(address).rpartition("@")
    if not local:
        return normalize_email(address)
    domain = SAME_PROVIDER.get(domain, domain)
    provider = PROVIDERS.get(domain)
    if provider and provider.plus_tags:
        local = local.split("+", 1)[0]
    if provider and provider.ignores_dots:
        local = local.replace(".", "")
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
