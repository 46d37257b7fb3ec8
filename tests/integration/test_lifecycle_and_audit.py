import pytest
from sqlalchemy import text

from core import audit_log, deciding, intake, lifecycle
from core.agents import create_agent
from core.errors import AlreadyDecided, IllegalTransition, InvalidRequest, NotFound
from core.proposal import Proposal
from core.vocabulary import Status
from tests.fakes import seal


def submit(services, agent, action_type="refund"):
    proposal = Proposal(action_type=action_type, title="t", payload={"amount": 1}, confidence=0.5)
    return intake.submit(services, agent, proposal)[0]


def test_outcome_after_approval(services, agent):
    a = submit(services, agent)
    deciding.decide(services, a.id, reviewer="UALICE", kind="approve")
    done = lifecycle.report_outcome(services, agent, a.id, "executed", {"refund_id": "r-9"})
    assert done.status is Status.EXECUTED and done.outcome.result == {"refund_id": "r-9"}
    assert done.decision.status is Status.APPROVED  # the decision survives the outcome
    with pytest.raises(InvalidRequest, match="reported already"):
        lifecycle.report_outcome(services, agent, a.id, "failed")


def test_outcome_before_decision_is_illegal(services, agent):
    a = submit(services, agent)
    with pytest.raises(IllegalTransition, match="from pending to executed"):
        lifecycle.report_outcome(services, agent, a.id, "executed")
    with pytest.raises(InvalidRequest):
        lifecycle.report_outcome(services, agent, a.id, "done")


def test_outcome_after_rejection_is_illegal(services, agent):
    a = submit(services, agent)
    deciding.decide(services, a.id, reviewer="UALICE", kind="reject", reason_tags=["wrong_action"])
    with pytest.raises(IllegalTransition, match="from rejected to failed"):
        lifecycle.report_outcome(services, agent, a.id, "failed")


def test_cancel_pending_then_nobody_can_decide(services, agent, dispatcher):
    a = submit(services, agent)
    c = lifecycle.cancel(services, agent, a.id, reason="user changed their mind")
    assert c.status is Status.CANCELLED and c.decision.reviewers == ["agent:test-agent"]
    assert dispatcher.calls[-1] == (a.id, "cancelled")
    with pytest.raises(AlreadyDecided, match="already cancelled by agent:test-agent"):
        deciding.decide(services, a.id, reviewer="UALICE", kind="approve")


def test_cancel_after_decision_says_who(services, agent):
    a = submit(services, agent)
    deciding.decide(services, a.id, reviewer="UALICE", kind="approve")
    with pytest.raises(AlreadyDecided, match="already approved by UALICE"):
        lifecycle.cancel(services, agent, a.id)


def test_other_agents_cannot_touch_an_action(services, agent, db):
    a = submit(services, agent)
    other, _ = create_agent(db, "other")
    with pytest.raises(NotFound):
        lifecycle.cancel(services, other, a.id)
    from core.queries import get_action

    with pytest.raises(NotFound):
        get_action(services, a.id, other)


def test_expire_is_a_no_op_once_decided(services, agent):
    a, b = submit(services, agent), submit(services, agent)
    deciding.decide(services, a.id, reviewer="UALICE", kind="approve")
    assert lifecycle.expire(services, a.id, "sla") is False
    assert lifecycle.expire(services, b.id, "sla") is True
    with pytest.raises(AlreadyDecided, match="already expired by policy"):
        deciding.decide(services, b.id, reviewer="UALICE", kind="approve")


def _history(services, agent):
    a = submit(services, agent)
    deciding.decide(services, a.id, reviewer="UALICE", kind="modify", edited_payload={"amount": 2})
    lifecycle.report_outcome(services, agent, a.id, "executed")
    submit(services, agent, "ping")
    return a


def test_audit_chain_records_every_step(services, agent, db):
    a = _history(services, agent)
    with db.read() as s:
        rows = s.execute(text("SELECT kind FROM audit_events WHERE action_id = :a ORDER BY id"), {"a": a.id})
        kinds = [k for (k,) in rows]
        assert kinds == ["created", "routed", "voted", "decided", "outcome"]
        waiting = audit_log.verify(s)
    # Written by the requests alone, the events wait for a worker's sealer to chain them.
    assert waiting.ok and (waiting.checked, waiting.unsealed) == (0, 8)
    assert seal(services) == 8 and seal(services) == 0
    with db.read() as s:
        report = audit_log.verify(s)
        seqs = [q for (q,) in s.execute(text("SELECT seq FROM audit_events ORDER BY id"))]
    assert report.ok and (report.checked, report.unsealed, report.last_seq) == (8, 0, 8) and seqs == list(range(1, 9))


def test_events_committed_after_a_seal_continue_the_chain(services, agent, db):
    _history(services, agent)
    seal(services)
    submit(services, agent, "ping")
    assert seal(services) == 3
    with db.read() as s:
        report = audit_log.verify(s)
    assert report.ok and report.checked == 11


@pytest.mark.parametrize("tamper,expected", [
    ("UPDATE audit_events SET data = '{\"status\": \"rejected\"}' WHERE seq = 4", "event 4 (decided"),
    ("DELETE FROM audit_events WHERE seq = 3", "events 3..3 are missing"),
    ("DELETE FROM audit_events WHERE seq = 8", "trailing events were deleted"),
    ("UPDATE audit_events SET created_at = created_at + interval '1 hour' WHERE seq = 2", "event 2 (routed"),
])
def test_audit_verify_detects_edits_and_deletions(services, agent, db, tamper, expected):
    _history(services, agent)
    seal(services)
    if db.is_sqlite:
        tamper = tamper.replace("created_at + interval '1 hour'", "'2001-01-01 00:00:00.000000'")
    with db.engine.begin() as conn:
        conn.execute(text(tamper))
    with db.read() as s:
        report = audit_log.verify(s)
    assert not report.ok
    assert any(expected in p for p in report.problems), report.problems
