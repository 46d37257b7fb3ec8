"""Links to the browser editor, for payloads too large for a Slack modal. A link is signed, names
one reviewer and one revision of the payload (core/seen.py), and expires after a few minutes. It
is used once: the vote it records ends it, because a reviewer votes once per revision and an
edit moves the revision on (core/deciding.py)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime

from core.errors import InvalidRequest
from core.seen import Seen

LIFETIME_SECONDS = 600


@dataclass(frozen=True)
class EditorGrant:
    action_id: str
    reviewer: str
    seen: Seen
    expires: int  # unix seconds


def _key(secret: str) -> bytes:
    # Its own key, derived: a signature made for one purpose can never pass as another's.
    return hmac.new(secret.encode(), b"hitl-gate editor link v1", hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def issue(secret: str, action_id: str, reviewer: str, seen: Seen, now: datetime,
          lifetime: int = LIFETIME_SECONDS) -> str:
    body = _b64(json.dumps({"a": action_id, "u": reviewer, "s": seen.token(), "e": int(now.timestamp()) + lifetime},
                           separators=(",", ":")).encode())
    return body + "." + _b64(hmac.new(_key(secret), body.encode(), hashlib.sha256).digest())


def read(secret: str, token: str, now: datetime) -> EditorGrant:
    body, _, signature = (token or "").partition(".")
    expected = _b64(hmac.new(_key(secret), body.encode(), hashlib.sha256).digest())
    if not body or not hmac.compare_digest(signature.encode(), expected.encode()):
        raise InvalidRequest("this editor link is not valid: open Modify again in Slack for a new one")
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        seen = Seen.parse(data["s"])
        if seen is None:
            raise ValueError("no revision")
        grant = EditorGrant(action_id=str(data["a"]), reviewer=str(data["u"]), seen=seen, expires=int(data["e"]))
    except (ValueError, KeyError, TypeError):
        raise InvalidRequest("this editor link is not valid: open Modify again in Slack for a new one") from None
    if now.timestamp() >= grant.expires:
        raise InvalidRequest("this editor link has expired: open Modify again in Slack for a new one")
    return grant
