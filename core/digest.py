"""The weekly digest: when it is due, where it goes, and what it says beside the headline (the
action types that moved most, and those whose advice changed since the week before). Posting it
is the workers' (bot/slack/digest_jobs.py)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core import metrics
from core.policy.model import Policy
from core.services import Services
from core.stats_scope import Scope

CATCH_UP = timedelta(days=1)  # a digest missed by more than this (workers down all Monday) waits for next week


def channels(policy: Policy) -> dict[str, tuple[str, ...] | None]:
    """Each digest channel and the action types it covers (None: all of them)."""
    out: dict[str, tuple[str, ...] | None] = {}
    for name, entry in policy.action_types.items():
        if entry.digest_channel and entry.digest_channel != policy.digest_channel:
            out[entry.digest_channel] = (*(out.get(entry.digest_channel) or ()), name)
    if policy.digest_channel:
        out[policy.digest_channel] = None
    return out


def due_at(now: datetime, weekday: int, hour: int) -> datetime | None:
    """The digest moment this tick owes, if it is at most CATCH_UP old: the latest `weekday` (0 is
    Monday) at `hour` UTC not after `now`."""
    moment = now.replace(hour=hour, minute=0, second=0, microsecond=0) - timedelta(days=(now.weekday() - weekday) % 7)
    if moment > now:
        moment -= timedelta(days=7)
    return moment if now - moment <= CATCH_UP else None


@dataclass(frozen=True)
class Mover:
    action_type: str
    now: metrics.Headline
    before: metrics.Headline

    @property
    def size(self) -> float:
        def move(a: float | None, b: float | None) -> float:
            return abs(a - b) if a is not None and b is not None else 0.0
        return (move(self.now.override_rate, self.before.override_rate)
                + move(self.now.rejection_rate, self.before.rejection_rate))


@dataclass(frozen=True)
class AdviceChange:
    action_type: str
    before: str
    now: str


@dataclass(frozen=True)
class Digest:
    stats: metrics.Stats
    movers: list[Mover]
    advice: list[AdviceChange]


def _advice(st: metrics.Stats) -> dict[str, str]:
    """Per action type, what `hitl recommend` advises, as one comparable line."""
    out = {}
    for rec, a in st.recommendations:
        threshold = "no safe threshold yet" if rec.threshold is None else f"auto_approve_threshold {rec.threshold:g}"
        mode = f"review_mode {a.mode} → {a.recommended}" if a.recommended else f"keep review_mode {a.mode}"
        out[rec.action_type] = f"{threshold}; {mode}" + ("; ⚠ trust it less" if a.alert else "")
    return out


def compose(services: Services, types: tuple[str, ...] | None, at: datetime, top: int = 3) -> Digest:
    """The week to `at`, against the week before."""
    label = "all action types" if types is None else ", ".join(types)
    st = metrics.stats(services, days=7, now=at, scope=Scope(label, only_types=types))
    before = metrics.stats(services, days=7, now=at - timedelta(days=7), scope=Scope(label, only_types=types))
    # Per type, only the rates are compared: from the rollups, not a full report per type and week.
    scope = Scope(label, only_types=types)
    now_by, before_by = (metrics.headlines_by_type(services, scope, when, 7) for when in (at, at - timedelta(days=7)))
    movers = [Mover(t, h, before_by[t]) for t, h in now_by.items() if h.reviewed and t in before_by
              and before_by[t].reviewed]
    movers = sorted((m for m in movers if m.size > 0), key=lambda m: (-m.size, m.action_type))[:top]
    old, new = _advice(before), _advice(st)
    changed = [AdviceChange(t, old[t], new[t]) for t in sorted(new) if t in old and old[t] != new[t]]
    return Digest(st, movers, changed)
