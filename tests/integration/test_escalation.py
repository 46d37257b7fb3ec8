"""Escalation trees with frozen time, on SQLite and PostgreSQL: levels at their timeouts, repeats,
the final action, Claim and its acknowledgement timeout, the agent's deadline, and races."""
import threading
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from core import audit_log, deciding, escalation, intake, reviews
from core.errors import PolicyError
from core.policy.loader import load_policy_text
from core.proposal import Proposal
from core.services import Services
from core.store.tables import Escalation
from core.vocabulary import Status
from tests.fakes import FixedPolicy, StaticGroups, seal

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = """
action_types:
  refund:
    risk: medium
    reviewers: [UALICE, UBOB]
    escalation:
      levels:
        - {targets: [UALICE], timeout: 5m}
        - {targets: [S0FIN, C0OPS], timeout: 10m}
      repeat: 1
      ack_timeout: 10m
      final_action: reject
  payout:
    risk: low
    escalation:
      levels: [{targets: [UALICE], timeout: 1m}]
      final_action: approve
  plain:
    risk: low
"""


@pytest.fixture
def tree_gate(db, dispatcher):
    return Services(db=db, policies=FixedPolicy(load_policy_text(POLICY, "esc.yaml")), dispatcher=dispatcher)


def propose(services, agent, action_type="refund", **extra):
    body = dict(action_type=action_type, title="Refund 42", payload={"amount": 10}, confidence=0.5) | extra
    return intake.submit(services, agent, Proposal(**body))[0]


def fire_latest(services, action_id):
    seq, _at = services.dispatcher.latest_timer(action_id)
    return escalation.fire(services, action_id, seq)


def history(services, action_id):
    with services.db.read() as s:
        return [(e.kind, e.level, e.round, tuple(e.targets), e.due_at, e.fired_at)
                for e in s.scalars(select(Escalation).where(Escalation.action_id == action_id).order_by(Escalation.seq))]


def test_unanswered_action_walks_the_tree_repeats_then_takes_the_final_action(tree_gate, agent):
    with freeze_time(T0) as clock:
        a = propose(tree_gate, agent)
        assert tree_gate.dispatcher.latest_timer(a.id) == (0, T0 + timedelta(minutes=5))

        clock.move_to(T0 + timedelta(minutes=5) - timedelta(milliseconds=1))
        assert fire_latest(tree_gate, a.id).kind == "early"  # RQ may run it early: nothing happens
        assert history(tree_gate, a.id) == []

        expected = []
        for minute, level, round_, targets in [(5, 1, 0, ("S0FIN", "C0OPS")), (15, 0, 1, ("UALICE",)),
                                               (20, 1, 1, ("S0FIN", "C0OPS"))]:
            clock.move_to(T0 + timedelta(minutes=minute))
            fired = fire_latest(tree_gate, a.id)
            assert fired.kind == "escalated"
            expected.append(("escalated", level, round_, targets, T0 + timedelta(minutes=minute),
                             T0 + timedelta(minutes=minute)))
        assert history(tree_gate, a.id) == expected
        assert tree_gate.dispatcher.latest_timer(a.id)[1] == T0 + timedelta(minutes=30)
        assert [seq for _id, seq in tree_gate.dispatcher.escalations] == [1, 2, 3]

        clock.move_to(T0 + timedelta(minutes=30, seconds=1))
        assert fire_latest(tree_gate, a.id).status is Status.REJECTED
    from core.queries import get_action

    done = get_action(tree_gate, a.id)
    assert done.status is Status.REJECTED and done.decision.reviewers == ["policy"]
    assert history(tree_gate, a.id)[-1][0] == "final"
    assert seal(tree_gate) > 0
    with tree_gate.db.read() as s:
        assert audit_log.verify(s).ok


def test_claim_pauses_escalation_and_the_ack_timeout_restarts_it(tree_gate, agent):
    with freeze_time(T0) as clock:
        a = propose(tree_gate, agent)
        first_seq, _ = tree_gate.dispatcher.latest_timer(a.id)
        clock.move_to(T0 + timedelta(minutes=2))
        assert reviews.claim(tree_gate, a.id, "UBOB", StaticGroups({})) == "UBOB"
        seq, at = tree_gate.dispatcher.latest_timer(a.id)
        assert seq != first_seq and at == T0 + timedelta(minutes=12)

        clock.move_to(T0 + timedelta(minutes=5))
        assert escalation.fire(tree_gate, a.id, first_seq).kind == "none"  # the old timer is stale
        assert history(tree_gate, a.id) == []

        clock.move_to(T0 + timedelta(minutes=12))
        fired = fire_latest(tree_gate, a.id)
        assert fired.kind == "ack_timeout"
        assert history(tree_gate, a.id) == [("ack_timeout", 0, 0, ("UALICE",), T0 + timedelta(minutes=12),
                                             T0 + timedelta(minutes=12))]
        from core.queries import review_context

        ctx = review_context(tree_gate, a.id)
        assert ctx.action.claimed_by is None and ctx.escalation.level == 1 and not ctx.escalation.paused
        assert ctx.due_at == T0 + timedelta(minutes=17)

        clock.move_to(T0 + timedelta(minutes=13))
        deciding.decide(tree_gate, a.id, reviewer="UALICE", kind="approve")
        clock.move_to(T0 + timedelta(minutes=17))
        assert fire_latest(tree_gate, a.id).kind == "none"  # a decision ends it
    assert len(history(tree_gate, a.id)) == 1


def test_the_agents_deadline_expires_the_action_before_the_tree_does(tree_gate, agent, dispatcher):
    with freeze_time(T0) as clock:
        a = propose(tree_gate, agent, deadline=T0 + timedelta(minutes=3))
        assert tree_gate.dispatcher.latest_timer(a.id)[1] == T0 + timedelta(minutes=3)
        clock.move_to(T0 + timedelta(minutes=3))
        fired = fire_latest(tree_gate, a.id)
    assert fired.kind == "deadline" and fired.status is Status.EXPIRED
    assert (a.id, "expired") in dispatcher.calls


def test_a_deadline_without_a_tree_still_expires(tree_gate, agent):
    with freeze_time(T0) as clock:
        a = propose(tree_gate, agent, action_type="plain", deadline=T0 + timedelta(hours=1))
        clock.move_to(T0 + timedelta(hours=1, seconds=1))
        assert fire_latest(tree_gate, a.id).status is Status.EXPIRED


def test_final_approve_goes_ahead_with_the_payload_but_never_when_the_agent_raised_the_risk(tree_gate, agent):
    with freeze_time(T0) as clock:
        low = propose(tree_gate, agent, action_type="payout")
        raised = propose(tree_gate, agent, action_type="payout", risk="high")
        clock.move_to(T0 + timedelta(minutes=1))
        assert fire_latest(tree_gate, low.id).status is Status.APPROVED
        assert fire_latest(tree_gate, raised.id).status is Status.EXPIRED
    from core.queries import get_action

    view = get_action(tree_gate, low.id)
    assert view.decision.go_ahead and view.decision.final_payload == {"amount": 10}


def test_a_timer_fired_twice_at_once_escalates_once(tree_gate, agent):
    with freeze_time(T0) as clock:
        a = propose(tree_gate, agent)
        clock.move_to(T0 + timedelta(minutes=6))
        seq, _ = tree_gate.dispatcher.latest_timer(a.id)
        barrier, kinds = threading.Barrier(4), []

        def run():
            barrier.wait()
            kinds.append(escalation.fire(tree_gate, a.id, seq).kind)

        threads = [threading.Thread(target=run) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(kinds) == ["escalated", "none", "none", "none"]
    assert len(history(tree_gate, a.id)) == 1


def test_editing_the_policy_does_not_move_an_action_in_flight(tree_gate, agent):
    with freeze_time(T0) as clock:
        a = propose(tree_gate, agent)
        tree_gate.policies.loaded = load_policy_text(POLICY.replace("timeout: 10m", "timeout: 1h")
                                                     .replace("final_action: reject", "final_action: expire"), "v2")
        clock.move_to(T0 + timedelta(minutes=5))
        assert fire_latest(tree_gate, a.id).next_at == T0 + timedelta(minutes=15)  # still 10m, from the snapshot


def test_reconciler_view_of_timers(tree_gate, agent):
    with freeze_time(T0):
        a = propose(tree_gate, agent)
        b = propose(tree_gate, agent, action_type="plain")  # no tree, no deadline: no timer
        due = escalation.timers_due(tree_gate, T0 + timedelta(minutes=10))
    assert [(t.action_id, t.at) for t in due] == [(a.id, T0 + timedelta(minutes=5))]
    assert b.id not in {t.action_id for t in due}


@pytest.mark.parametrize("risk", ["high", "critical"])
def test_policy_refuses_approve_on_silence_for_high_risk(risk):
    text = f"""action_types:
  refund:
    risk: {risk}
    escalation:
      levels: [{{targets: [UALICE], timeout: 5m}}]
      final_action: approve
"""
    with pytest.raises(PolicyError, match="final_action approve is allowed only for low or medium risk"):
        load_policy_text(text, "p.yaml")


def test_policy_refuses_a_rule_that_raises_the_risk_under_an_approving_tree():
    text = """action_types:
  refund:
    risk: low
    escalation:
      levels: [{targets: [UALICE], timeout: 5m}]
      final_action: approve
    rules:
      - when: amount > 100
        risk: critical
"""
    with pytest.raises(PolicyError, match=r"p.yaml:\d+: .*rules\[0\]: escalation.final_action approve"):
        load_policy_text(text, "p.yaml")


def test_escalations_and_sla_breaches_are_counted(tree_gate, agent):
    from core import metrics, stats_text

    with freeze_time(T0) as clock:
        a = propose(tree_gate, agent)
        b = propose(tree_gate, agent)
        deciding.decide(tree_gate, b.id, reviewer="UALICE", kind="approve")  # in time: no breach
        clock.move_to(T0 + timedelta(minutes=5))
        fire_latest(tree_gate, a.id)
        clock.move_to(T0 + timedelta(minutes=15))
        fire_latest(tree_gate, a.id)
        st = metrics.stats(tree_gate, "refund", now=T0 + timedelta(minutes=16))
    assert (st.current.escalations, st.current.sla_breaches) == (2, 1)
    assert "SLA breaches     1 action went past their first SLA; 2 escalations" in stats_text.lines(st)
