"""Charts kept for a while at an unguessable address: Slack fetches a message's image by URL, from
its own servers, when it first shows it. The address holds 192 random bits; Redis keeps the PNG
under the address's hash (a copy of Redis does not give the addresses away) and forgets it when
it expires. Every web process reads the same Redis, so any of them can serve it."""
from __future__ import annotations

import hashlib
import re
import secrets

TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
PREFIX = "hitl:chart:"


def _key(token: str) -> str:
    return PREFIX + hashlib.sha256(token.encode()).hexdigest()


def put(redis, png: bytes, ttl_seconds: int) -> str:
    token = secrets.token_urlsafe(24)  # 32 characters
    redis.set(_key(token), png, ex=ttl_seconds)
    return token


def get(redis, token: str) -> bytes | None:
    if not TOKEN.fullmatch(token):
        return None
    return redis.get(_key(token))


def url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/charts/{token}.png"
