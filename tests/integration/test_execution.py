"""What a human approved runs once: the decision names its payload's hash, one claim gets it, and
an approval nobody claims within the policy's approval_ttl expires. Frozen time, both databases."""
import threading
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from core import deciding, escalation, execution, intake, lifecycle
from core.action_view import payload_sha256
from core.errors import ExecutionRefused, NotFound
from core.policy.loader import load_policy_text
from core.proposal import Proposal
from core.queries import get_action
from core.services import Services
from core.store.tables import AuditEvent
from core.vocabulary import Status
from hitl_client import payload_sha256 as client_sha256
from tests.fakes import FixedPolicy

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = """
action_types:
  refund:
    reviewers: [UALICE, UBOB]
    approval_ttl: 15m
  ping:
    risk: low
    review_mode: auto
    approval_ttl: 1m
  payout:
    risk: low
    approval_ttl: 10m
    escalation:
      levels: [{targets: [UALICE], timeout: 1m}]
      final_action: approve
  untimed:
    reviewers: [UALICE]
"""


@pytest.fixture
def gate(db, dispatcher):
    return Services(db=db, policies=FixedPolicy(load_policy_text(POLICY, "ttl.yaml")), dispatcher=dispatcher)


def propose(services, agent, action_type="refund", payload=None):
    body = dict(action_type=action_type, title="Refund 42", payload=payload or {"amount": 900, "note": "ü"},
                confidence=0.5)
    return intake.submit(services, agent, Proposal(**body))[0]


def events(services, action_id):
    with services.db.read() as s:
        return [e.kind for e in s.scalars(select(AuditEvent).where(AuditEvent.action_id == action_id)
                                          .order_by(AuditEvent.id))]


def test_the_decision_names_the_hash_of_what_runs_and_one_claim_gets_it(gate, agent):
    with freeze_time(T0) as clock:
        a = propose(gate, agent)
        d = deciding.decide(gate, a.id, reviewer="UALICE", kind="modify",
                            edited_payload={"amount": 600, "note": "ü"}).action.decision
        assert d.revision == 1 and d.final_payload == {"amount": 600, "note": "ü"}
        # The agent can compute the same hash with the client alone: canonical JSON, UTF-8.
        assert d.payload_sha256 == payload_sha256(d.final_payload) == client_sha256({"note": "ü", "amount": 600})
        assert d.approval_expires_at == T0 + timedelta(minutes=15) and d.execution_claimed_at is None

        with pytest.raises(ExecutionRefused) as wrong:
            execution.claim(gate, agent, a.id, payload_sha256({"amount": 900, "note": "ü"}))  # the proposal, not the edit
        assert wrong.value.code == "payload_mismatch" and "revision 1" in wrong.value.message

        clock.move_to(T0 + timedelta(minutes=3))
        got = execution.claim(gate, agent, a.id, d.payload_sha256)
        assert got.final_payload == {"amount": 600, "note": "ü"} and got.revision == 1
        with pytest.raises(ExecutionRefused) as again:
            execution.claim(gate, agent, a.id, d.payload_sha256)
        assert again.value.code == "already_claimed"
        view = get_action(gate, a.id)
        assert view.decision.execution_claimed_at == T0 + timedelta(minutes=3) and view.decision.go_ahead
        assert events(gate, a.id)[-1] == "execution_claimed"
        # Claimed in time, it never expires; the outcome still follows.
        clock.move_to(T0 + timedelta(hours=1))
        assert escalation.fire_due(gate) == []
        assert lifecycle.report_outcome(gate, agent, a.id, "executed").status is Status.EXECUTED


def test_an_unclaimed_approval_expires_at_its_ttl_with_its_own_audit_event(gate, agent, dispatcher):
    with freeze_time(T0) as clock:
        a = propose(gate, agent)
        deciding.decide(gate, a.id, reviewer="UALICE", kind="approve")
        seq, at = dispatcher.latest_timer(a.id)
        assert at == T0 + timedelta(minutes=15)
        clock.move_to(at - timedelta(seconds=1))
        assert escalation.fire(gate, a.id, seq).kind == "early"  # never early
        clock.move_to(at)
        assert escalation.fire(gate, a.id, seq).status is Status.EXPIRED
        assert escalation.fire(gate, a.id, seq).kind == "none"  # a second copy of the timer does nothing
    view = get_action(gate, a.id)
    assert view.status is Status.EXPIRED and view.decision.status is Status.APPROVED and not view.decision.go_ahead
    assert events(gate, a.id).count("approval_expired") == 1
    with pytest.raises(ExecutionRefused) as late:
        execution.claim(gate, agent, a.id, view.decision.payload_sha256 or payload_sha256({"amount": 900, "note": "ü"}))
    assert late.value.code == "approval_expired"
    with pytest.raises(ExecutionRefused, match="expired"):
        lifecycle.report_outcome(gate, agent, a.id, "executed")


def test_a_claim_after_the_ttl_is_refused_even_before_the_timer_runs(gate, agent):
    with freeze_time(T0) as clock:
        a = propose(gate, agent)
        sha = deciding.decide(gate, a.id, reviewer="UALICE", kind="approve").action.decision.payload_sha256
        clock.move_to(T0 + timedelta(minutes=15))
        with pytest.raises(ExecutionRefused) as late:
            execution.claim(gate, agent, a.id, sha)
    assert late.value.code == "approval_expired"
    # The refusal recorded the lapse: it is a fact, not a side effect of a failed request.
    assert get_action(gate, a.id).status is Status.EXPIRED and "approval_expired" in events(gate, a.id)


def test_auto_approvals_and_policy_approvals_carry_the_same_lifetime(gate, agent):
    with freeze_time(T0) as clock:
        auto = propose(gate, agent, action_type="ping")
        assert auto.status is Status.AUTO_APPROVED
        assert auto.decision.approval_expires_at == T0 + timedelta(minutes=1)
        silent = propose(gate, agent, action_type="payout")
        clock.move_to(T0 + timedelta(minutes=1))
        fired = dict(escalation.fire_due(gate))
        assert fired[auto.id].status is Status.EXPIRED and fired[silent.id].status is Status.APPROVED
        assert get_action(gate, silent.id).decision.approval_expires_at == T0 + timedelta(minutes=11)
        clock.move_to(T0 + timedelta(minutes=11))
        assert dict(escalation.fire_due(gate))[silent.id].status is Status.EXPIRED


def test_without_a_ttl_nothing_expires_and_claims_still_happen_once(gate, agent):
    with freeze_time(T0) as clock:
        a = propose(gate, agent, action_type="untimed")
        d = deciding.decide(gate, a.id, reviewer="UALICE", kind="approve").action.decision
        assert d.approval_expires_at is None
        clock.move_to(T0 + timedelta(days=30))
        assert escalation.fire_due(gate) == []
        assert execution.claim(gate, agent, a.id, d.payload_sha256).final_payload == {"amount": 900, "note": "ü"}


def test_only_a_go_ahead_can_be_claimed_and_only_by_its_agent(gate, agent, db):
    from core.agents import create_agent

    pending = propose(gate, agent)
    sha = payload_sha256(pending.payload)
    with pytest.raises(ExecutionRefused) as early:
        execution.claim(gate, agent, pending.id, sha)
    assert early.value.code == "not_decided"
    deciding.decide(gate, pending.id, reviewer="UALICE", kind="reject", reason_tags=["wrong_action"])
    with pytest.raises(ExecutionRefused) as rejected:
        execution.claim(gate, agent, pending.id, sha)
    assert rejected.value.code == "not_approved"

    approved = propose(gate, agent)
    deciding.decide(gate, approved.id, reviewer="UALICE", kind="approve")
    other, _ = create_agent(db, "other")
    with pytest.raises(NotFound):
        execution.claim(gate, other, approved.id, sha)
    lifecycle.report_outcome(gate, agent, approved.id, "executed")  # ran without claiming (an older agent)
    with pytest.raises(ExecutionRefused) as ran:
        execution.claim(gate, agent, approved.id, sha)
    assert ran.value.code == "already_claimed"


def test_racing_claims_get_the_payload_exactly_once(gate, agent, database_url):
    a = propose(gate, agent)
    sha = deciding.decide(gate, a.id, reviewer="UALICE", kind="approve").action.decision.payload_sha256
    won, refused = [], []
    start = threading.Barrier(4)

    def run():
        start.wait()
        try:
            won.append(execution.claim(gate, agent, a.id, sha))
        except ExecutionRefused as exc:
            refused.append(exc.code)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1 and refused == ["already_claimed"] * 3
    assert events(gate, a.id).count("execution_claimed") == 1
