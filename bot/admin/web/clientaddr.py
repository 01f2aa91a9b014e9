"""Who is on the other end of a request: the socket peer, unless the peer is one of the reverse proxies the
operator configured (BOT_ADMIN_TRUSTED_PROXIES: addresses or CIDR networks, comma-separated), in which case the
client is read from X-Forwarded-For, right to left, skipping the configured proxies.

Anyone can send an X-Forwarded-For header, so it is believed only from a configured proxy, and only for the hops
added by configured proxies: the rightmost address no configured proxy added is the client. Without the setting,
every request behind a proxy shares the proxy's address (limits per address then count everyone together).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.requests import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "?"


def trusted_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """Parse the setting; a wrong entry raises ValueError naming it (the page must not start half-configured)."""
    networks = []
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"BOT_ADMIN_TRUSTED_PROXIES: '{entry}' không phải địa chỉ IP hay dải CIDR") from None
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:51234"
        text = text.split(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address, networks: tuple[Network, ...]) -> bool:
    return address is not None and any(address.version == n.version and address in n for n in networks)


def client_address(request: Request, networks: tuple[Network, ...]) -> str:
    """The client's address as text (UNKNOWN when the socket has none)."""
    peer_text = request.client.host if request.client else ""
    peer = _address(peer_text)
    if peer is None:
        return peer_text[:64] or UNKNOWN
    if not _trusted(peer, networks):
        return str(peer)
    hops = [hop for header in request.headers.getlist("x-forwarded-for") for hop in header.split(",")]
    for hop in reversed(hops[-20:]):  # a long forged list must not cost us anything
        address = _address(hop)
        if address is None:  # garbage from before our proxies: the last address a proxy vouched for is all we have
            break
        if not _trusted(address, networks):
            return str(address)
        peer = address
    return str(peer)
