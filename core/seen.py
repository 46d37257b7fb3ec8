"""What a reviewer saw when they voted: the payload's revision and a short hash of it.

Every button and modal carries both, and a vote counts only if they still name the current payload.
An Approve clicked on the message as it was before someone's edit would otherwise count toward
quorum on a payload its voter never saw, and a Modify modal opened before an edit would write the
old values back.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core import masking
from core.action_view import payload_sha256
from core.diffing import change_summary
from core.errors import StaleView
from core.rollups import modified_fields
from core.store.tables import Action, Vote
from core.vocabulary import DecisionKind

HASH_CHARS = 12  # 48 bits: a guard against a crafted or garbled value, next to the revision


def payload_hash(payload: Any) -> str:
    return payload_sha256(payload)[:HASH_CHARS]  # a prefix of the hash an approval is executed by


@dataclass(frozen=True)
class Seen:
    revision: int
    payload_hash: str

    @classmethod
    def of(cls, revision: int, payload: Any) -> Seen:
        return cls(revision, payload_hash(payload))

    def token(self) -> str:
        return f"{self.revision}:{self.payload_hash}"

    @classmethod
    def parse(cls, token: str | None) -> Seen | None:
        revision, _, digest = (token or "").partition(":")
        if not revision.isdigit() or len(digest) != HASH_CHARS:
            return None
        return cls(int(revision), digest)


def check(action: Action, seen: Seen, votes: list[Vote]) -> None:
    """Raise StaleView, saying what changed and who changed it, unless `seen` is the current payload.
    `votes`: the action's votes from `seen.revision` on (the one that made it gives what was seen)."""
    if seen.revision == action.revision and seen.payload_hash == payload_hash(action.current_payload):
        return
    modifies = [v for v in votes if v.kind == DecisionKind.MODIFY.value]
    edits = [v for v in modifies if v.revision > seen.revision]
    if not edits:
        raise StaleView("the payload you saw is not the current one")
    was = action.payload if seen.revision == 0 else next(
        (v.edited_payload for v in modifies if v.revision == seen.revision), None)
    if was is not None and payload_hash(was) == seen.payload_hash:
        # Values too, except masked ones: this text goes to Slack.
        what = change_summary(was, action.current_payload, masking.paths(action.route or {})) or "the payload"
    else:
        what = ", ".join(sorted(set().union(*(modified_fields(v.patch) for v in edits)))) or "the payload"
    who = ", ".join(dict.fromkeys(v.reviewer for v in edits))
    raise StaleView(f"this action changed since you looked: {what} (edited by {who})")
