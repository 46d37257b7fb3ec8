"""Agent API keys: random, shown once, stored only as a SHA-256 hash.

A key has 256 bits of entropy, so a fast hash is enough (as for GitHub tokens); a slow
password hash would only slow every intake request.
"""
from __future__ import annotations

import hashlib
import secrets

PREFIX = "hitl_"


OPERATOR_PREFIX = "hitlop_"  # an operator's key: never accepted by the intake, nor an agent's by operator routes


def new_key(prefix: str = PREFIX) -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    return key[: key.index("_") + 7]
