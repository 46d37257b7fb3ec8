"""Autonomy stays watched: every auto-approval may be spot-checked (threshold or mode), drawn with a
recorded probability, with a weekly floor per agent version; a run of flags is a drift, which
alerts and, with `on_drift: review`, sends the type back to review until a person clears it."""
from datetime import UTC, datetime

import pytest
from freezegun import freeze_time

from core import drift, intake, spot_checks
from core.effects import Effect
from core.errors import NotFound
from core.policy.loader import load_policy_text
from core.proposal import Proposal
from core.services import Services
from core.vocabulary import Status
from tests.fakes import FixedPolicy, RecordingDispatcher, StaticGroups

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
POLICY = """
alerts_channel: C0ALERTS
action_types:
  refund:
    risk: medium
    auto_approve_threshold: 0.8
    audit_rate: 0.1
    audit_min_per_week: 2
    on_drift: review
    mask_fields: [/card]
  ping:
    risk: low
    review_mode: auto
    audit_min_per_week: 0
"""


@pytest.fixture
def gate(db) -> Services:
    return Services(db=db, policies=FixedPolicy(load_policy_text(POLICY, "p.yaml")), dispatcher=RecordingDispatcher(),
                    draw=lambda: 0.99)


def refund(gate, agent, confidence=0.95, version="v1"):
    return intake.submit(gate, agent, Proposal(action_type="refund", title="Refund", payload={"amount": 5, "card": "4111"},
                                               confidence=confidence, agent_version=version))[0]


def test_threshold_auto_approvals_in_review_mode_are_drawn_with_their_probability(gate, agent):
    with freeze_time(T0, auto_tick_seconds=1):
        floor = [refund(gate, agent) for _ in range(2)]  # the weekly floor: the first two of v1 are all drawn
        beyond = refund(gate, agent)  # then the rate: 0.1, and 0.99 is not below it
        gate.draw = lambda: 0.25
        narrow = refund(gate, agent, confidence=0.82)  # within 0.05 of the threshold: 0.3, and 0.25 is below it
        new_version = refund(gate, agent, version="v2")  # a new agent version has its own floor
    for a in floor:
        item = spot_checks.get(gate, a.id)
        assert (item.probability, item.action_type, item.agent_version) == (1.0, "refund", "v1")
        assert "fewer than 2 this week, so every one is" in a.explanation
    assert spot_checks.get(gate, beyond.id) is None
    assert "not drawn for a spot check (probability 0.1)" in beyond.explanation
    assert spot_checks.get(gate, narrow.id).probability == pytest.approx(0.3)
    assert spot_checks.get(gate, new_version.id).probability == 1.0
    assert len(gate.dispatcher.of(Effect.SPOT_CHECK_NEEDED)) == 4

    waiting = spot_checks.pending(gate, "refund")
    assert [w.action_id for w in waiting] == [floor[0].id, floor[1].id, narrow.id, new_version.id]
    assert waiting[0].payload == {"amount": 5, "card": "••••••"}  # masked, as on every surface


def test_auto_mode_is_watched_too(gate, agent):
    gate.draw = lambda: 0.01
    a = intake.submit(gate, agent, Proposal(action_type="ping", title="p", payload={}, confidence=0.1))[0]
    assert a.status is Status.AUTO_APPROVED and spot_checks.get(gate, a.id).probability == pytest.approx(0.05)


def flag(gate, action_id, verdict=spot_checks.FLAGGED):
    tags = ["wrong_action"] if verdict == spot_checks.FLAGGED else []
    return spot_checks.record_verdict(gate, action_id, "UALICE", verdict, tags, StaticGroups({}))


def test_cusum_alarms_on_a_run_of_flags_not_on_old_clean_history():
    clean, flagged = False, True
    assert not drift.cusum([clean] * 300 + [flagged]).alarm
    assert drift.cusum([clean] * 300 + [flagged, flagged]).alarm  # old clean checks cannot dilute it
    assert not drift.cusum([flagged, clean, flagged]).alarm  # two in a row, or a third
    three = drift.cusum([flagged] + [clean] * 6 + [flagged] + [clean] * 6 + [flagged])
    assert three.alarm and three.run_flagged == 3 and three.run == 15
    assert not drift.cusum([flagged] + [clean] * 12 + [flagged] + [clean] * 12 + [flagged]).alarm


def test_a_drift_alerts_holds_the_type_in_review_and_only_a_person_lifts_it(gate, agent):
    gate.draw = lambda: 0.0  # every auto-approval drawn
    with freeze_time(T0) as clock:
        drawn = [refund(gate, agent) for _ in range(8)]
        for a in drawn[:5]:
            clock.tick(60)
            flag(gate, a.id, spot_checks.LOOKS_RIGHT)
        clock.tick(60)
        flag(gate, drawn[5].id)
        assert drift.open_alarms(gate) == []  # one flag after clean checks: not yet
        clock.tick(60)
        flag(gate, drawn[6].id)
        (alarm,) = drift.open_alarms(gate)
        assert alarm.action_type == "refund" and alarm.hold
        assert alarm.evidence.startswith("2 of the last 2 spot checks of refund were flagged")
        assert [o.action_id for o in gate.dispatcher.of(Effect.DRIFT_DETECTED)] == [f"drift-{alarm.id}"]

        held = refund(gate, agent, confidence=0.99)  # the very next proposal, in this process
        assert held.status is Status.PENDING and held.review_mode == "review"
        assert held.explanation.startswith("back to review: drift caught 2026-05-04 09:07 UTC")

        clock.tick(60)
        flag(gate, drawn[7].id)  # more flags while open: still one alarm
        assert len(drift.open_alarms(gate)) == 1

        with pytest.raises(NotFound):
            drift.clear(gate, "ping", by="UBOB")
        drift.clear(gate, "refund", by="UBOB", note="prompt fixed")
        assert drift.open_alarms(gate) == []
        assert refund(gate, agent, confidence=0.99).status is Status.AUTO_APPROVED
        assert drift.state_of(gate, "refund").checks == 0  # the test starts afresh after a clear


def test_another_process_sees_a_hold_within_seconds(db, agent):
    web = Services(db=db, policies=FixedPolicy(load_policy_text(POLICY, "p.yaml")), dispatcher=RecordingDispatcher(),
                   draw=lambda: 0.0)
    worker = Services(db=db, policies=web.policies, dispatcher=RecordingDispatcher(), draw=lambda: 0.0)
    with freeze_time(T0) as clock:
        a, b = refund(web, agent), refund(web, agent)
        flag(worker, a.id)
        flag(worker, b.id)
        assert refund(web, agent, confidence=0.99).status is Status.AUTO_APPROVED  # its cache is a second old
        clock.tick(3)
        assert refund(web, agent, confidence=0.99).status is Status.PENDING


def test_the_stats_estimate_what_nobody_reviewed_and_say_what_each_figure_covers(gate, agent):
    from core import deciding, metrics, stats_text

    with freeze_time(T0, auto_tick_seconds=1):
        gate.draw = lambda: 0.99
        checked = [refund(gate, agent) for _ in range(2)]  # the floor: drawn at 1
        unchecked = [refund(gate, agent) for _ in range(6)]  # drawn at 0.1, and 0.99 is not below it
        reviewed = refund(gate, agent, confidence=0.5)
        flag(gate, checked[0].id)
        flag(gate, checked[1].id, spot_checks.LOOKS_RIGHT)
        deciding.decide(gate, reviewed.id, reviewer="UALICE", kind="reject", reason_tags=["wrong_action"])
        st = metrics.stats(gate, days=7)
    auto = st.current.escaped_estimate
    # The two checked ones speak for their stratum only; the six at 0.1 have no verdict: not covered.
    assert (auto.population, auto.uncovered, auto.checks, auto.flagged, auto.rate) == (2, 6, 2, 1, 0.5)
    assert st.current.traffic_estimate.rate == pytest.approx((1 + 2 * 0.5) / 3)
    text = "\n".join(stats_text.lines(st))
    assert "Rejection rate   100% of 1 reviewed by people" in text
    assert "Escaped errors   est. 50.0% (95% CI" in text and "of 2 auto-approved, from 2 spot checks" in text
    assert "6 auto-approved not covered" in text
    assert "over 3 reviewed or auto-approved" in text
    assert len(unchecked) == 6


def test_a_recent_flag_tightens_the_spot_checks_until_clean_ones_outweigh_it(gate, agent):
    from core.policy.audit_draw import TIGHTENED_BOOST

    gate.draw = lambda: 0.0
    with freeze_time(T0, auto_tick_seconds=1):
        drawn = [refund(gate, agent) for _ in range(12)]
        flag(gate, drawn[0].id)
        gate.draw = lambda: 0.99
        tight = refund(gate, agent)  # 0.1 × 3: 0.99 is not below it, but the probability says it
        assert "probability 0.3: recent flags: tightened" in tight.explanation
        for a in drawn[1:11]:  # ten clean checks outweigh one flag
            flag(gate, a.id, spot_checks.LOOKS_RIGHT)
        assert drift.state_of(gate, "refund").statistic < 0.5
        normal = refund(gate, agent)
    assert "(probability 0.1)" in normal.explanation and TIGHTENED_BOOST == 3.0


def test_under_suspicion_a_drawn_auto_approval_waits_for_a_person_and_their_verdict_feeds_the_test(gate, agent):
    from core import deciding
    from core.store.learning_tables import HeldCheck

    gate.draw = lambda: 0.0
    with freeze_time(T0, auto_tick_seconds=1):
        first = refund(gate, agent)
        flag(gate, first.id)  # one flag: tightened inspection, no alarm yet
        assert drift.state_of(gate, "refund").statistic >= drift.TIGHTEN_AT and drift.open_alarm(gate, "refund") is None
        held = refund(gate, agent)  # drawn (0.0 < 0.3): held for a person instead of running
        assert held.status is Status.PENDING and held.review_mode.value == "review"
        assert "held for a review before it runs (probability 0.3" in held.explanation
        assert spot_checks.get(gate, held.id) is None  # a look before, not after
        gate.draw = lambda: 0.99
        assert refund(gate, agent).status is Status.AUTO_APPROVED  # not drawn: runs, as the policy says
        deciding.decide(gate, held.id, reviewer="UALICE", kind="reject", reason_tags=["policy_violation"])
    with gate.db.read() as s:
        row = s.get(HeldCheck, held.id)
        assert (row.flagged, row.probability) == (True, pytest.approx(0.3))
    alarm = drift.open_alarm(gate, "refund")  # two flags in a row: the held one counts like a spot check
    assert alarm is not None and alarm.hold and "2 of the last 2" in alarm.evidence
