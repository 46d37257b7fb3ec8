"""What intake reads about the watch on autonomy, cached per process so an auto-approval costs no
extra round trip in the steady state:

- drift holds: action types a drift sent back to review (core/drift.py), and the types whose drift
  statistic is up (their spot checks tighten), re-read at most every HOLD_SECONDS; a hold this
  process records itself applies at once;
- the weekly spot-check floor: whether an action type and agent version had `audit_min_per_week`
  auto-approvals drawn in the last 7 days. Until it has, every auto-approval is drawn; once it has,
  that is remembered for FLOOR_SECONDS.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from core.store.learning_tables import DriftAlarm, DriftStatistic, SpotCheck

if TYPE_CHECKING:
    from core.services import Services

HOLD_SECONDS = 2.0
FLOOR_SECONDS = 600.0
WEEK = timedelta(days=7)


class Watch:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holds: dict[str, str] = {}
        self._tightened: set[str] = set()
        self._holds_until: datetime | None = None
        self._floors: dict[tuple[str, str | None], datetime] = {}

    def hold(self, services: Services, action_type: str) -> str | None:
        """Why the action type is back in review, or None."""
        now = services.clock()
        with self._lock:
            fresh = self._holds_until is not None and now < self._holds_until
        if not fresh:
            from core.drift import TIGHTEN_AT

            with services.db.read() as s:
                rows = s.execute(select(DriftAlarm.action_type, DriftAlarm.detected_at)
                                 .where(DriftAlarm.open_key.is_not(None), DriftAlarm.hold.is_(True))).all()
                tightened = set(s.scalars(select(DriftStatistic.action_type)
                                          .where(DriftStatistic.statistic >= TIGHTEN_AT)))
            with self._lock:
                self._holds = {t: f"drift caught {at:%Y-%m-%d %H:%M} UTC, until a person clears it (hitl drift clear)"
                               for t, at in rows}
                self._tightened = tightened
                self._holds_until = now + timedelta(seconds=HOLD_SECONDS)
        with self._lock:
            return self._holds.get(action_type)

    def tightened(self, services: Services, action_type: str) -> bool:
        """Whether the type's drift statistic is up: its spot checks tighten. (Read with the holds.)"""
        self.hold(services, action_type)
        with self._lock:
            return action_type in self._tightened

    def forget_holds(self) -> None:
        with self._lock:
            self._holds_until = None

    def floor_met(self, services: Services, action_type: str, agent_version: str | None, minimum: int) -> bool:
        if minimum <= 0:
            return True
        now = services.clock()
        key = (action_type, agent_version)
        with self._lock:
            until = self._floors.get(key)
        if until is not None and now < until:
            return True
        with services.db.read() as s:
            drawn = s.scalar(select(func.count()).select_from(SpotCheck).where(
                SpotCheck.action_type == action_type, SpotCheck.created_at >= now - WEEK,
                SpotCheck.agent_version.is_(None) if agent_version is None else SpotCheck.agent_version == agent_version))
        if (drawn or 0) < minimum:
            return False
        with self._lock:
            self._floors[key] = now + timedelta(seconds=FLOOR_SECONDS)
        return True
