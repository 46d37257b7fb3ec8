"""Who may decide on an action: the reviewers its route snapshot names."""
from __future__ import annotations

from typing import Any

from core.ports import GroupDirectory


def is_reviewer(reviewers: dict[str, Any], user_id: str, groups: GroupDirectory) -> bool:
    users, group_ids = reviewers.get("users") or [], reviewers.get("groups") or []
    if not users and not group_ids:
        # No reviewers configured: anyone who can see the review may decide (`hitl policy check` warns).
        return True
    if user_id in users:
        return True
    return any(user_id in groups.members(g) for g in group_ids)
