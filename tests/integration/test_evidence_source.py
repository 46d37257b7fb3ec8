"""Evidence has a source: a decision made by the policy because nobody answered (an escalation
tree's final action, an expiry) is not a human review. It stays out of the rates, calibration,
`recommend`, autonomy, examples and the training exports, and has its own line in the stats."""
import json
from datetime import UTC, datetime, timedelta

from freezegun import freeze_time

from core import autonomy, corrected_examples, deciding, escalation, export, intake, metrics, recommend, stats_text
from core.policy.loader import load_policy_text
from core.proposal import Proposal
from core.queries import get_action
from core.services import Services
from core.store.db import Database
from core.vocabulary import DecisionSource, Status
from tests.fakes import FixedPolicy, RecordingDispatcher

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = """
action_types:
  payout:
    risk: low
    approvals_required: 2
    escalation:
      levels: [{targets: [UALICE], timeout: 1m}]
      final_action: approve
  refund:
    risk: medium
    approvals_required: 2
    escalation:
      levels: [{targets: [UALICE], timeout: 1m}]
      final_action: reject
"""


def _gate(db: Database) -> Services:
    return Services(db=db, policies=FixedPolicy(load_policy_text(POLICY, "p.yaml")), dispatcher=RecordingDispatcher())


def _propose(services, agent, action_type, **extra):
    body = dict(action_type=action_type, title="t", payload={"amount": 10}, confidence=0.95) | extra
    return intake.submit(services, agent, Proposal(**body))[0]


def _time_out(services, action_id):
    for _ in range(3):
        seq, at = services.dispatcher.latest_timer(action_id)
        with freeze_time(at):
            fired = escalation.fire(services, action_id, seq)
        if fired.status is not None:
            return fired.status
    raise AssertionError("the tree never ended")


def test_silence_is_not_counted_as_a_human(db, agent):
    gate = _gate(db)
    with freeze_time(T0):
        reviewed = _propose(gate, agent, "payout")
        approved_by_silence = [_propose(gate, agent, "payout") for _ in range(3)]
        rejected_by_silence = _propose(gate, agent, "refund")
        # A reviewer's modify (one of two approvals needed) and then silence: the policy rejects it.
        half_done = _propose(gate, agent, "refund")
        deadline = _propose(gate, agent, "payout", deadline=T0 + timedelta(seconds=30))
    with freeze_time(T0 + timedelta(seconds=10)):
        deciding.decide(gate, reviewed.id, reviewer="UALICE", kind="approve")
        deciding.decide(gate, reviewed.id, reviewer="UBOB", kind="approve")
        deciding.decide(gate, half_done.id, reviewer="UBOB", kind="modify", edited_payload={"amount": 5},
                        reason_tags=["edge_case"])
    assert [_time_out(gate, a.id) for a in approved_by_silence] == [Status.APPROVED] * 3
    assert _time_out(gate, rejected_by_silence.id) is Status.REJECTED
    assert _time_out(gate, half_done.id) is Status.REJECTED
    assert _time_out(gate, deadline.id) is Status.EXPIRED

    assert get_action(gate, reviewed.id).decision.source is DecisionSource.HUMAN
    assert get_action(gate, approved_by_silence[0].id).decision.source is DecisionSource.POLICY
    assert get_action(gate, half_done.id).decision.source is DecisionSource.POLICY

    st = metrics.stats(gate, days=7, now=T0 + timedelta(hours=1))
    c = st.current
    assert (c.reviewed, c.approved, c.rejected, c.modified) == (1, 1, 0, 0)
    assert (c.policy_approved, c.policy_rejected, c.expired) == (3, 2, 1)
    assert c.rejection_rate == 0.0 and c.override_rate == 0.0
    assert sum(b.count for b in st.calibration.buckets) == 1
    text = "\n".join(stats_text.lines(st))
    assert "Nobody answered  1 expired, 3 approved and 2 rejected by the policy's final action" in text
    assert "(7 proposed, 1 reviewed by people)" in text

    for action_type in ("payout", "refund"):
        rec = recommend.recommend(gate, action_type, min_samples=1, days=30, now=T0 + timedelta(hours=1))
        assert rec.reviewed == (1 if action_type == "payout" else 0)
        advice = autonomy.autonomy(gate, "payout", "review", now=T0 + timedelta(hours=1))
        assert "0 of 1 reviewed were modified or rejected" in advice.why

    assert corrected_examples.recent(gate, agent, "refund") == []  # the half-done modify never decided anything
    assert list(export.records(gate, "sft")) and all(r["meta"]["action_id"] == reviewed.id
                                                      for r in export.records(gate, "sft"))
    assert list(export.records(gate, "preference")) == []
    sources = {r["action_id"]: r["decision_source"] for r in export.records(gate, "raw")}
    assert sources[half_done.id] == "policy" and sources[reviewed.id] == "human"
    json.dumps(list(export.records(gate, "raw")), default=str)


def test_rebuilt_rollups_keep_the_sources_apart(db, agent):
    gate = _gate(db)
    with freeze_time(T0):
        a = _propose(gate, agent, "payout")
    _time_out(gate, a.id)
    before = metrics.stats(gate, days=7, now=T0 + timedelta(hours=1)).current
    from core import rollups

    with db.transaction() as s:
        rollups.rebuild(s)
    after = metrics.stats(gate, days=7, now=T0 + timedelta(hours=1)).current
    assert before == after and (after.reviewed, after.policy_approved) == (0, 1)
