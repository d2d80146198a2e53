"""Who is calling: the client address the rate limiter charges, behind trusted proxies only.

Behind a reverse proxy every request comes from the proxy's address, so the proxy's
``X-Forwarded-For`` must name the client instead; but that header is whatever the caller wrote,
so it is believed only when the peer is a proxy the operator named (``serve --trusted-proxy``).
The client is then the rightmost address in the chain that is not itself a trusted proxy: each
trusted hop appends the address it saw, and anything to the left of the first untrusted hop may
be forged. With no trusted proxy the header is ignored (and uvicorn's own proxy-header handling
is turned off, since it trusts 127.0.0.1 by default).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.requests import HTTPConnection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(specs: Iterable[str]) -> tuple[Network, ...]:
    """Addresses or CIDR networks (``10.0.0.0/8``, ``::1``); ValueError for a bad one."""
    return tuple(ipaddress.ip_network(spec.strip(), strict=False) for spec in specs)


def _trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_address(conn: HTTPConnection, trusted: tuple[Network, ...]) -> str:
    """The caller's address: the peer's, or the forwarded one when the peer is trusted."""
    peer = conn.client.host if conn.client else "unknown"
    if not trusted or not _trusted(peer, trusted):
        return peer
    hops = [
        hop.strip()
        for header in conn.headers.getlist("x-forwarded-for")
        for hop in header.split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer
