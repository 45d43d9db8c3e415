"""Outgoing requests to URLs a user typed: refuse private targets (SSRF).

A webhook target URL is resolved when it is saved *and* again at every attempt; the
request then connects to the address that was checked (the host name is kept for the
``Host`` header and for TLS: SNI and certificate verification), so a DNS answer that
changes between the check and the connection (DNS rebinding) cannot reach an internal
address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit, urlunsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeTarget(ValueError):
    """The URL is malformed or resolves to an address that may not be called."""


@dataclass(frozen=True)
class Target:
    """A checked URL: connect to ``ip_url``, send ``host_header``, verify TLS for ``host``."""

    url: str
    host: str
    ip: str
    ip_url: str
    host_header: str
    scheme: str


def is_public(ip: IPAddress) -> bool:
    """True for globally routable unicast addresses only."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def parse(url: str) -> SplitResult:
    """Check the URL's shape (http/https, a host, no credentials in it)."""
    if len(url) > 2000:
        raise UnsafeTarget("The URL is longer than 2000 characters.")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget(f"The URL is malformed: {exc}.") from exc
    if parts.scheme not in ("http", "https"):
        raise UnsafeTarget("The URL must start with https:// or http://.")
    if not parts.hostname:
        raise UnsafeTarget("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("The URL must not carry a user name or password.")
    if port == 0:
        raise UnsafeTarget("The URL's port is invalid.")
    if parts.fragment:
        raise UnsafeTarget("The URL must not have a #fragment.")
    return parts


async def resolve(url: str, *, allow_private: bool) -> Target:
    """Resolve ``url``'s host; refuse it when any address is not public (unless allowed)."""
    parts = parse(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout=5
            )
        except (OSError, TimeoutError) as exc:
            raise UnsafeTarget(f"The host {host!r} cannot be resolved.") from exc
        addresses = []
        for info in infos:
            raw = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone id
            addresses.append(ipaddress.ip_address(raw))
        if not addresses:
            raise UnsafeTarget(f"The host {host!r} has no address.")
    if not allow_private:
        bad = [str(a) for a in addresses if not is_public(a)]
        if bad:
            raise UnsafeTarget(
                f"The host {host!r} resolves to a private, loopback or link-local address "
                f"({', '.join(bad[:3])}); webhooks may only target public addresses."
            )
    ip = addresses[0]
    ip_host = f"[{ip}]" if ip.version == 6 else str(ip)
    default = (parts.scheme == "https" and port == 443) or (parts.scheme == "http" and port == 80)
    host_header = host if default else f"{host}:{port}"
    if ":" in host and not host.startswith("["):  # an IPv6 literal in the Host header
        host_header = f"[{host}]" if default else f"[{host}]:{port}"
    ip_url = urlunsplit(parts._replace(netloc=f"{ip_host}:{port}"))
    return Target(
        url=url,
        host=host,
        ip=str(ip),
        ip_url=ip_url,
        host_header=host_header,
        scheme=parts.scheme,
    )
