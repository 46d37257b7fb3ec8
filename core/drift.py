"""Drift: an action type whose auto-approvals start going wrong after it earned its autonomy.

The test is a Bernoulli CUSUM (Page's cumulative sum, in the form of Reynolds and Stoumbos) over
the type's spot-check verdicts, in the order they were given, since a person last cleared an
alarm. Each verdict adds its log-likelihood ratio of "P1 of checks are flagged" against "P0 are":
a flag adds ln(P1/P0) ≈ +1.20, a clean check ln((1-P1)/(1-P0)) ≈ -0.075, and the sum never goes
below zero. It alarms at H = 2.4. So two flags in a row, or three within about fifteen checks,
raise it, while old clean checks cannot dilute a new run of flags (the trouble with a cumulative
rate). The balance is measured, not guessed (bench/drift_power.py): at the advised audit rate
(core/autonomy.py DETECT_RATE, 25%) a drift to 11% wrong is caught within 200 of the type's
actions about 94% of the time, and to 15% about 99%; in control at 2% flagged, a false alarm
comes within 1,000 actions about a quarter of the time. P1 was 0.15 and H 2.5 at first: at the
15% rate advised then, an 11% drift went unseen for 200 actions one run in five.

Why spot checks (and held checks) only: they are the one look at what would run without a human.
Reviews of the remainder already stop its errors, and their drift (the agent's confidence saying less) is the
miscalibration alarm in core/recommend.py. Spot checks oversample the narrow margins, so their
flagged share runs above the population's: the test errs toward alarming.

While the statistic is up (TIGHTEN_AT: a recent flag), intake draws the type's auto-approvals
three times as often (core/watch.py, core/policy/audit_draw.py): the switching rule of acceptance
sampling, from normal to tightened inspection. A drawn one is then held for a review before it
runs (routing), and its human decision is a verdict here too (`held_checks`: modified or rejected
is a flag): the same population, looked at before it runs, so suspicion stops errors while it
gathers its evidence.

On an alarm: a row in `drift_alarms`, an audit log event, and an alert owed to Slack (the policy's
`alerts_channel`). With `on_drift: review` the type is held in review (core/watch.py, routing)
until a person clears it. Raising scrutiny is automatic; lowering it never is.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from core.effects import Effect
from core.errors import InvalidRequest, NotFound
from core.services import Services
from core.store.db import affected
from core.store.learning_tables import DriftAlarm, DriftStatistic, HeldCheck, SpotCheck
from core.unit_of_work import Work, unit_of_work
from core.vocabulary import Verdict

P0 = 0.03  # flagged share of spot checks that is in control
P1 = 0.10  # the drift to catch quickly
H = 2.4  # alarm threshold on the statistic: two flags in a row reach it
UP, DOWN = math.log(P1 / P0), math.log((1 - P1) / (1 - P0))
WINDOW = 500  # verdicts read back; the statistic forgets faster than this anyway


@dataclass(frozen=True)
class Cusum:
    statistic: float
    checks: int  # verdicts since the last clear
    run: int  # verdicts since the statistic was last zero
    run_flagged: int  # flags among those

    @property
    def alarm(self) -> bool:
        return self.statistic >= H

    def evidence(self, action_type: str) -> str:
        return (f"{self.run_flagged} of the last {self.run} spot checks of {action_type} were flagged as should not have "
                f"happened (CUSUM {self.statistic:.1f} ≥ {H:g}: in control ≤ {P0:.0%} flagged, alarm toward {P1:.0%})")


def cusum(flags: list[bool]) -> Cusum:
    s, run, run_flagged = 0.0, 0, 0
    for flagged in flags:
        s = max(0.0, s + (UP if flagged else DOWN))
        if s == 0.0:
            run, run_flagged = 0, 0
        else:
            run, run_flagged = run + 1, run_flagged + flagged
    return Cusum(s, len(flags), run, run_flagged)


def _since_clear(s, action_type: str) -> datetime | None:
    return s.scalar(select(func.max(DriftAlarm.cleared_at)).where(DriftAlarm.action_type == action_type))


def state(s, action_type: str) -> Cusum:
    """Over the type's spot-check verdicts and its held checks (people's looks at would-be
    auto-approvals before they ran), merged in the order they were given."""
    since = _since_clear(s, action_type)
    checked = (select(SpotCheck.decided_at, SpotCheck.action_id, SpotCheck.verdict == Verdict.FLAGGED.value)
               .where(SpotCheck.action_type == action_type, SpotCheck.verdict.is_not(None)))
    held = select(HeldCheck.decided_at, HeldCheck.action_id, HeldCheck.flagged).where(HeldCheck.action_type == action_type)
    if since is not None:
        checked, held = checked.where(SpotCheck.decided_at > since), held.where(HeldCheck.decided_at > since)
    rows = [*s.execute(checked.order_by(SpotCheck.decided_at.desc(), SpotCheck.action_id.desc()).limit(WINDOW)),
            *s.execute(held.order_by(HeldCheck.decided_at.desc(), HeldCheck.action_id.desc()).limit(WINDOW))]
    rows.sort(key=lambda r: (r[0], r[1]))
    return cusum([bool(flagged) for _, _, flagged in rows[-WINDOW:]])


def record_held(work: Work, action, flagged: bool, on_drift: str) -> None:
    """A held check decided by people (routing holds a drawn auto-approval for review while its type is
    under suspicion): modified or rejected counts as a flag. Then the test runs as after a verdict."""
    work.session.add(HeldCheck(action_id=action.id, action_type=action.action_type,
                               probability=float((action.route or {}).get("audit_p") or 0.0), flagged=flagged,
                               decided_at=work.now))
    work.log("held_check", action.id, {"flagged": flagged})
    check(work, action.action_type, on_drift)


def state_of(services: Services, action_type: str) -> Cusum:
    with services.db.read() as s:
        return state(s, action_type)


TIGHTEN_AT = 0.5  # a recent flag not yet outweighed (about eight clean checks): spot checks tighten (core/watch.py)


def check(work: Work, action_type: str, on_drift: str) -> DriftAlarm | None:
    """After a verdict, inside its unit of work: keep the statistic for intake, and raise an alarm if
    the test says so and none is open."""
    s = work.session
    s.flush()
    found = state(s, action_type)
    row = s.get(DriftStatistic, action_type)
    if row is None:
        s.add(DriftStatistic(action_type=action_type, statistic=found.statistic, updated_at=work.now))
    else:
        row.statistic, row.updated_at = found.statistic, work.now
    if s.scalar(select(DriftAlarm.id).where(DriftAlarm.open_key == action_type)) is not None:
        return None
    if not found.alarm:
        return None
    alarm = DriftAlarm(action_type=action_type, open_key=action_type, detected_at=work.now,
                       evidence=found.evidence(action_type), hold=on_drift == "review")
    s.add(alarm)
    s.flush()
    work.log("drift_detected", None, {"action_type": action_type, "alarm": alarm.id, "evidence": alarm.evidence,
                                      "hold": alarm.hold, "statistic": round(found.statistic, 3)})
    work.owe(Effect.DRIFT_DETECTED, alert_ref(alarm.id))
    return alarm


def alert_ref(alarm_id: int) -> str:
    """The outbox's action_id for an alarm's alert (an alarm belongs to a type, not an action)."""
    return f"drift-{alarm_id}"


def alarm_of(ref: str) -> int:
    return int(ref.removeprefix("drift-"))


def get(services: Services, alarm_id: int) -> DriftAlarm | None:
    with services.db.read() as s:
        return s.get(DriftAlarm, alarm_id)


def open_alarm(services: Services, action_type: str) -> DriftAlarm | None:
    with services.db.read() as s:
        return s.scalar(select(DriftAlarm).where(DriftAlarm.open_key == action_type))


def open_alarms(services: Services) -> list[DriftAlarm]:
    with services.db.read() as s:
        return list(s.scalars(select(DriftAlarm).where(DriftAlarm.open_key.is_not(None)).order_by(DriftAlarm.detected_at)))


def record_posted(services: Services, alarm_id: int, channel: str, ts: str) -> None:
    with services.db.transaction() as s:
        s.execute(update(DriftAlarm).where(DriftAlarm.id == alarm_id, DriftAlarm.message_ts.is_(None))
                  .values(channel=channel, message_ts=ts).execution_options(synchronize_session=False))


def clear(services: Services, action_type: str, by: str, note: str | None = None) -> DriftAlarm:
    """A person says the drift is dealt with: the hold ends and the test starts afresh."""
    if not by.strip():
        raise InvalidRequest("say who clears it", field="by")
    with unit_of_work(services) as work:
        s = work.session
        alarm = s.scalar(select(DriftAlarm).where(DriftAlarm.open_key == action_type))
        if alarm is None:
            raise NotFound(f"no open drift alarm for {action_type!r}")
        done = s.execute(update(DriftAlarm).where(DriftAlarm.id == alarm.id, DriftAlarm.open_key.is_not(None))
                         .values(open_key=None, cleared_at=work.now, cleared_by=by)
                         .execution_options(synchronize_session=False))
        if not affected(done):
            raise NotFound(f"no open drift alarm for {action_type!r}")
        work.log("drift_cleared", None, {"action_type": action_type, "alarm": alarm.id, "by": by, "note": note})
        s.execute(update(DriftStatistic).where(DriftStatistic.action_type == action_type)
                  .values(statistic=0.0, updated_at=work.now).execution_options(synchronize_session=False))
        s.refresh(alarm)
    services.watch.forget_holds()
    return alarm
