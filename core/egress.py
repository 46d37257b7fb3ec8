"""Where the gate may send an agent's callback: public addresses only, unless an operator allows more.

A callback carries the signed decision and the agent's `state`. Sent to a loopback, private,
link-local, multicast, reserved or unspecified address it would let any agent make the workers
talk to their own Redis, PostgreSQL or cloud metadata service (SSRF). Addresses are judged in
every spelling a resolver accepts (`2130706433`, `0x7f.1`, `127.1`, `[::ffff:127.0.0.1]`, 6to4
and NAT64 forms), and the worker connects to the very address it judged (workers/egress_http.py),
so a DNS answer that changes between check and connect cannot slip through.
"""
from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class EgressPolicy:
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_lists(cls, networks: Iterable[str], hosts: Iterable[str]) -> EgressPolicy:
        """Raises ValueError naming a bad CIDR."""
        nets = []
        for raw in networks:
            try:
                nets.append(ipaddress.ip_network(raw.strip(), strict=False))
            except ValueError:
                raise ValueError(f"{raw.strip()!r} is not a network such as 10.0.0.0/8 or fd00::/8") from None
        return cls(tuple(nets), frozenset(h.strip().lower().rstrip(".") for h in hosts if h.strip()))

    def address_problem(self, ip: IPAddress) -> str | None:
        """Why the gate may not connect to `ip`, or None."""
        if any(ip in net for net in self.allowed_networks):
            return None
        for candidate in _embedded(ip):
            if any(candidate in net for net in self.allowed_networks):
                return None
            if candidate.is_multicast:
                return f"{ip} is a multicast address"
            if candidate.is_loopback:
                return f"{ip} is a loopback address"
            if candidate.is_link_local:
                return f"{ip} is a link-local address"
            if candidate.is_unspecified:
                return f"{ip} is the unspecified address"
            if candidate.is_private or not candidate.is_global:
                return f"{ip} is a private or reserved address"
        return None

    def url_problem(self, url: str) -> str | None:
        """What intake can tell without DNS: the scheme, credentials, and a host that is an address
        (in any spelling) or a loopback name the policy does not allow."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            return f"is not a valid URL ({exc})"
        if parts.scheme not in ("http", "https"):
            return "must be an http or https URL"
        if parts.username is not None or parts.password is not None:
            return "must not carry credentials (user:password@); authenticate by the signature instead"
        host = (parts.hostname or "").rstrip(".")
        if not host:
            return "has no host"
        if port == 0:
            return "has port 0"
        if host in self.allowed_hosts:
            return None
        ip = literal_address(host)
        if ip is not None:
            problem = self.address_problem(ip)
            return f"points at {problem}; callbacks go to public addresses only " \
                   "(HITL_CALLBACK_ALLOWED_NETWORKS allows more)" if problem else None
        if host == "localhost" or host.endswith(".localhost"):
            return "points at localhost; callbacks go to public addresses only (HITL_CALLBACK_ALLOWED_HOSTS allows more)"
        return None

    def host_allowed(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.allowed_hosts


def literal_address(host: str) -> IPAddress | None:
    """The address `host` spells, as a resolver would read it (inet_aton takes `127.1`, `0x7f.1`,
    `2130706433` and octal parts), or None for a name."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    if host.replace(".", "").replace("x", "").replace("X", "").isalnum() and host[:1].isdigit():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _embedded(ip: IPAddress) -> list[IPAddress]:
    """Any IPv4 address `ip` carries (mapped, 6to4, Teredo, NAT64), then `ip` itself."""
    found: list[IPAddress] = []
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            found.append(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            found.append(ip.sixtofour)
        if ip.teredo is not None:
            found.append(ip.teredo[1])
        if ip in _NAT64:
            found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return [*found, ip]
