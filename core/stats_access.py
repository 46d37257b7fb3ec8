"""Who may read which numbers in /hitl-stats: the policy's managers read every action type and every
reviewer's figures; anyone else reads only the action types they may decide, and only their own
reviewer figures (a type whose reviewers the policy does not name is the managers' alone). A policy
with no `managers:` leaves the numbers open to everyone (`hitl policy check` warns), as a policy with
no reviewers leaves the decisions open."""
from __future__ import annotations

from dataclasses import dataclass, replace

from core.access import is_reviewer
from core.metrics import Stats
from core.policy.model import Policy
from core.ports import GroupDirectory


@dataclass(frozen=True)
class Reader:
    user: str
    manager: bool
    types: tuple[str, ...]  # the action types a non-manager may read (all of them for a manager)

    @property
    def only_types(self) -> tuple[str, ...] | None:
        """The scope's restriction: None for a manager."""
        return None if self.manager else self.types


def reader(policy: Policy, user: str, known_types: list[str], groups: GroupDirectory) -> Reader:
    if not policy.managers or is_reviewer(policy.managers.model_dump(), user, groups):
        return Reader(user, True, tuple(known_types))
    mine = []
    for action_type in known_types:
        entry, _ = policy.for_action_type(action_type)
        # A rule may hand the type to other reviewers: deciding any of its actions is reason enough.
        # Only a panel that names people counts: one that names nobody is open to all, and its numbers
        # are the managers' to read.
        panels = [entry.reviewers] + [r.reviewers for r in entry.rules if r.reviewers is not None]
        if any(p and is_reviewer(p.model_dump(), user, groups) for p in panels):
            mine.append(action_type)
    return Reader(user, False, tuple(mine))


def refusal(who: Reader, subject: str | None, agents: list[str]) -> str | None:
    """Why `who` may not read `subject`, naming what they may read; None when they may."""
    if who.manager:
        return None
    if not who.types:
        return ("Only the managers the policy names (`managers:`) can read /hitl-stats beyond the action types "
                "they review, and you review none.")
    if subject is not None and subject not in who.types and subject not in agents:
        return (f"You can read the numbers for the action types you review ({', '.join(who.types)}); {subject} "
                "is not one of them. The policy's `managers:` can read every type.")
    return None


def own_view(st: Stats, who: Reader) -> Stats:
    """A non-manager's report: the numbers of their types, and no other reviewer's load, flags or score."""
    if who.manager:
        return st
    return replace(st, reviewers=[r for r in st.reviewers if r.reviewer == who.user],
                   stamps=[s for s in st.stamps if s.reviewer == who.user],
                   gold=[g for g in st.gold if g.reviewer == who.user])
