"""Agent API keys: random, shown once, stored only as a SHA-256 hash.

A key has 256 bits of entropy, so a fast hash is enough (as for GitHub tokens); a slow
password hash would only slow every intake request.
"""
from __future__ import annotations

import hashlib
import secrets

PREFIX = "hitl_"


def new_key() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    return key[: len(PREFIX) + 6]
