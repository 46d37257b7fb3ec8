"""POST to an agent's callback_url through the egress policy (core/egress.py): resolve the name,
judge every address it resolves to, and connect to the judged address itself, with the original
Host header and TLS server name. No redirects are followed."""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit, urlunsplit

import httpx

from core.egress import EgressPolicy, literal_address


class Refused(Exception):
    """The destination is not allowed; retrying will not change that."""


def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpx.ConnectError(f"cannot resolve {host}: {exc.strerror}") from None
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))


def post(url: str, body: bytes, headers: dict[str, str], policy: EgressPolicy, timeout: float = 10) -> httpx.Response:
    parts = urlsplit(url)
    if (problem := policy.url_problem(url)) is not None:
        raise Refused(f"callback_url {problem}")
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    extensions: dict = {}
    if not policy.host_allowed(host):
        candidates = _addresses(host, port)
        judged = [(ip, policy.address_problem(ip)) for ip in candidates]
        allowed = [ip for ip, problem in judged if problem is None]
        if not allowed:
            raise Refused(f"{host} resolves to " + "; ".join(p for _, p in judged if p)
                          + "; callbacks go to public addresses only (HITL_CALLBACK_ALLOWED_NETWORKS allows more)")
        ip = allowed[0]
        netloc = f"[{ip}]:{port}" if ip.version == 6 else f"{ip}:{port}"
        url = urlunsplit(parts._replace(netloc=netloc))
        headers = {**headers, "Host": parts.netloc.rpartition("@")[2]}
        if parts.scheme == "https":
            extensions["sni_hostname"] = host  # the certificate is checked against the name, not the address
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        return client.post(url, content=body, headers=headers, extensions=extensions)
