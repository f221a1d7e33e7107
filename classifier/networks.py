"""Outbound address ranges of mail-security clouds: a hit from one is a
scanner's, whatever agent it sends (Safe Links sends an ordinary Chrome one).
Each range as its vendor publishes it; kept small on purpose, extend it from
the same pages."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

# (vendor, range, where the vendor publishes it)
SCANNER_NETWORKS: tuple[tuple[str, str, str], ...] = (
    ("proofpoint", "148.163.128.0/19", "Proofpoint: pphosted IP ranges"),
    ("proofpoint", "67.231.144.0/20", "Proofpoint: pphosted IP ranges"),
    ("mimecast", "205.139.110.0/24", "Mimecast: Data Centers and URLs (US)"),
    ("mimecast", "207.211.30.0/24", "Mimecast: Data Centers and URLs (US)"),
    ("barracuda", "64.235.144.0/20", "Barracuda: Email Gateway Defense IP ranges"),
    ("barracuda", "209.222.80.0/21", "Barracuda: Email Gateway Defense IP ranges"),
    ("microsoft", "40.92.0.0/15", "Microsoft 365 URLs and IP address ranges: Exchange Online"),
    ("microsoft", "40.107.0.0/16", "Microsoft 365 URLs and IP address ranges: Exchange Online"),
    ("microsoft", "52.100.0.0/14", "Microsoft 365 URLs and IP address ranges: Exchange Online"),
    ("microsoft", "104.47.0.0/17", "Microsoft 365 URLs and IP address ranges: Exchange Online"),
)  # fmt: skip

_NETWORKS = tuple((name, ipaddress.ip_network(cidr)) for name, cidr, _ in SCANNER_NETWORKS)


@lru_cache(maxsize=65536)
def client_facts(host: str) -> tuple[str, str | None]:
    """(address truncated to /24 or /48, scanner network name or None)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "", None
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    truncated = str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
    return truncated, scanner_network(address)


def scanner_network(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    for name, network in _NETWORKS:
        if address.version == network.version and address in network:
            return name
    return None


def stored_prefix_network(ip_prefix: str) -> str | None:
    """The scanner network of a stored /24 or /48 (every listed range is wider,
    so the prefix's first address decides), for reclassifying stored hits."""
    try:
        return scanner_network(ipaddress.ip_network(ip_prefix, strict=False).network_address)
    except ValueError:
        return None
