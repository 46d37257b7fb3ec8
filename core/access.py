"""Who may decide on an action: the reviewers its route snapshot names."""
from __future__ import annotations

import re
from typing import Any

from core.ports import GroupDirectory

USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")  # a Slack user id: what every vote is counted by


def user_id(raw: str) -> str | None:
    """The Slack user id `raw` names, upper-cased (`u0alice01` is U0ALICE01), or None if it is none.
    One person must never count twice toward a quorum because of how an id was typed."""
    normal = (raw or "").strip().upper()
    return normal if USER_ID.fullmatch(normal) else None


class NoGroups:
    """A directory that knows no group's members: only reviewers named by user id pass. For a process
    with no Slack to ask, so that a missing directory never means "no check"."""

    def members(self, group_id: str) -> tuple[str, ...]:
        return ()


def is_reviewer(reviewers: dict[str, Any], user_id: str, groups: GroupDirectory) -> bool:
    users, group_ids = reviewers.get("users") or [], reviewers.get("groups") or []
    if not users and not group_ids:
        # No reviewers configured: anyone who can see the review may decide (`hitl policy check` warns).
        return True
    if user_id in users:
        return True
    return any(user_id in groups.members(g) for g in group_ids)
