"""Gold items: past decisions with a known answer, shown again, give each reviewer a measured accuracy."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from core import deciding, gold, intake, metrics, stats_text
from core.effects import Effect
from core.errors import AlreadyDecided, NotAuthorised
from core.policy.loader import load_policy_text
from core.proposal import Proposal
from core.queries import review_context
from core.services import Services
from core.vocabulary import Status
from tests.fakes import FixedPolicy, StaticGroups

POLICY = """
action_types:
  refund:
    risk: medium
    gold_rate: 0.5
    reviewers: [UALICE, UBOB, UCAROL]
  email:
    risk: medium
    reviewers: [UALICE]
"""
DAY1 = datetime(2026, 11, 2, 9, tzinfo=UTC)
GROUPS = StaticGroups({})


@pytest.fixture
def gate(db, dispatcher) -> Services:
    return Services(db=db, policies=FixedPolicy(load_policy_text(POLICY, "gold.yaml")), dispatcher=dispatcher,
                    draw=lambda: 0.25)


def propose(gate, agent, n: int, action_type: str = "refund"):
    return intake.submit(gate, agent, Proposal(action_type=action_type, title=f"Refund {n}", summary="because",
                                               payload={"amount": n}, confidence=0.7))[0]


def decided(gate, agent, kind: str, n: int, by: str = "UBOB"):
    a = propose(gate, agent, n)
    extra = {"edited_payload": {"amount": n + 1}} if kind == "modify" else {}
    deciding.decide(gate, a.id, reviewer=by, kind=kind, reason_tags=["edge_case"] if kind != "approve" else None,
                    **extra)
    return a


def test_nothing_is_issued_before_a_decision_is_a_day_old_nor_for_a_type_without_gold_rate(gate, agent):
    with freeze_time(DAY1):
        decided(gate, agent, "reject", 1)
        fresh = propose(gate, agent, 2)
        assert gold.maybe_issue(gate, fresh.action_type, "C0REF") is None  # the rejection is an hour old at most
    with freeze_time(DAY1 + timedelta(days=2)):
        other = propose(gate, agent, 3, "email")
        assert gold.maybe_issue(gate, other.action_type, "C0EMAIL") is None  # email has no gold_rate
        gate.draw = lambda: 0.75
        assert gold.maybe_issue(gate, fresh.action_type, "C0REF") is None  # not drawn: 0.75 ≥ 0.5
    assert not gate.dispatcher.of(Effect.GOLD_NEEDED)


def test_an_issued_item_shows_the_proposal_as_it_was_and_gives_nothing_away(gate, agent):
    with freeze_time(DAY1):
        source = decided(gate, agent, "modify", 40)
    with freeze_time(DAY1 + timedelta(days=2)):
        trigger = propose(gate, agent, 41)
        item = gold.maybe_issue(gate, trigger.action_type, "C0REF")
    assert (item.action_id, item.answer, item.basis, item.channel) == (source.id, "modify", "review", "C0REF")
    assert [o.action_id for o in gate.dispatcher.of(Effect.GOLD_NEEDED)] == [item.id]
    shown = gold.shown(gate, item).action
    assert shown.id == item.id and shown.status is Status.PENDING and shown.decision is None
    assert shown.votes == [] and shown.revision == 0 and shown.current_payload == {"amount": 40}
    assert source.id not in shown.model_dump_json()
    with freeze_time(DAY1 + timedelta(days=2)):  # the same past action is not shown twice
        assert gold.maybe_issue(gate, trigger.action_type, "C0REF") is None


def test_answers_are_scored_on_may_it_run_as_proposed_and_the_first_one_stands(gate, agent):
    with freeze_time(DAY1):
        bad = decided(gate, agent, "reject", 1)
    with freeze_time(DAY1 + timedelta(days=2)):
        item = gold.maybe_issue(gate, propose(gate, agent, 2).action_type, "C0REF")
        assert item.action_id == bad.id
        with pytest.raises(NotAuthorised):
            gold.answer(gate, item.id, "UMALLORY", "reject", [], GROUPS)
        answered = gold.answer(gate, item.id, "UALICE", "modify", ["edge_case"], GROUPS)
        assert (answered.correct, answered.own, answered.response) == (True, False, "modify")
        with pytest.raises(AlreadyDecided, match="already answered by UALICE"):
            gold.answer(gate, item.id, "UCAROL", "approve", [], GROUPS)
    assert [o.action_id for o in gate.dispatcher.of(Effect.GOLD_CHANGED)] == [item.id]
    after = review_context(gate, bad.id).action  # nothing happened to the past action itself
    assert after.status is Status.REJECTED and len(after.votes) == 1


def test_accuracy_counts_misses_and_false_alarms_and_leaves_out_a_reviewers_own_decisions(gate, agent):
    with freeze_time(DAY1):
        for n in range(6):
            decided(gate, agent, "approve" if n % 2 else "reject", n)
    # Three known-bad items come first, then the known-good ones (the bad pool has run out).
    answers = [("UALICE", "approve"), ("UALICE", "approve"), ("UCAROL", "reject"), ("UCAROL", "reject"),
               ("UBOB", "approve")]  # UBOB decided every source: his answer is not counted
    with freeze_time(DAY1 + timedelta(days=2)):
        draws = iter([0.1, 0.1, 0.0] * 10)
        gate.draw = lambda: next(draws)  # drawn; a known-bad one; the first of the pool
        for reviewer, said in answers:
            item = gold.maybe_issue(gate, propose(gate, agent, 99).action_type, "C0REF")
            gold.answer(gate, item.id, reviewer, said, [], GROUPS)
        st = metrics.stats(gate, "refund", now=DAY1 + timedelta(days=3))
    scores = {g.reviewer: g for g in st.gold}
    assert set(scores) == {"UALICE", "UCAROL"}
    assert (scores["UALICE"].answered, scores["UALICE"].correct, scores["UALICE"].missed) == (2, 0, 2)
    carol = scores["UCAROL"]
    assert (carol.answered, carol.correct, carol.missed, carol.false_alarms) == (2, 1, 0, 1)
    text = "\n".join(stats_text.lines(st))
    assert "Gold items       UALICE 0 of 2 right (2 missed, 0 false alarms)" in text


def test_a_known_good_answer_comes_from_a_look_after_the_fact_too(gate, agent):
    from core import spot_checks

    policy = POLICY.replace("  email:", "  crm:\n    risk: low\n    review_mode: auto\n    audit_rate: 1\n"
                            "    gold_rate: 0.5\n    reviewers: [UALICE]\n  email:")
    gate.policies = FixedPolicy(load_policy_text(policy, "gold.yaml"))
    with freeze_time(DAY1):
        ran = intake.submit(gate, agent, Proposal(action_type="crm", title="Update", payload={"x": 1},
                                                  confidence=0.99))[0]
        spot_checks.record_verdict(gate, ran.id, "UALICE", spot_checks.LOOKS_RIGHT, [], GROUPS)
    with freeze_time(DAY1 + timedelta(days=2)):
        item = gold.maybe_issue(gate, ran.action_type, "C0CRM")
        assert (item.action_id, item.answer, item.basis) == (ran.id, "approve", "spot_check")
        ctx = gold.shown(gate, item)
        assert "auto-approve" not in ctx.route["explanation"] and ctx.action.review_mode.value == "review"
        assert gold.answer(gate, item.id, "UALICE", "approve", [], GROUPS).own is True  # she checked it herself


def test_a_modify_click_is_recorded_as_an_answer_only_for_a_gold_item(gate):
    from core import inbox

    with pytest.raises(ValueError, match="unknown interaction kind"):
        inbox.receive(gate, "act_123", "UALICE", "modify")  # a real Modify goes through its modal
    assert inbox.receive(gate, "gold_123", "UALICE", "modify") > 0
