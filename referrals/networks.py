"""Client networks: the /24 (IPv4) or /64 (IPv6) an address belongs to.

One household, office or mobile cell usually shares one such network, so
"how many networks" counts places rather than devices. Pure, no Django.
"""

from __future__ import annotations

import ipaddress


def network_of(ip: str | None) -> str | None:
    """The /24 (IPv4) or /64 (IPv6) that `ip` belongs to, as text; None for nonsense."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
