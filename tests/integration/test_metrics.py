"""A known history, built under freezegun; every figure below is computed by hand in the comments."""
from datetime import UTC, datetime

import pytest
from freezegun import freeze_time

from core import deciding, intake, metrics, stats_text
from core.proposal import Proposal


def propose(services, agent, action_type="refund", amount=100):
    p = Proposal(action_type=action_type, title="t", payload={"amount": amount}, confidence=0.5)
    return intake.submit(services, agent, p)[0].id


@pytest.fixture
def history(services, agent):
    with freeze_time("2026-05-28T12:00:00Z") as clock:  # previous window: one approval after 60 s
        a0 = propose(services, agent)
        clock.tick(60)
        deciding.decide(services, a0, reviewer="UALICE", kind="approve")
        clock.move_to("2026-06-02T09:00:00Z")  # current window [06-01, 06-08)
        a1, a2, a3, a4 = (propose(services, agent) for _ in range(4))
        propose(services, agent, "ping")  # auto-approved
        propose(services, agent, "nuke")  # blocked
        clock.tick(30)
        deciding.decide(services, a1, reviewer="UALICE", kind="approve")  # ttd 30
        clock.tick(60)
        deciding.decide(services, a4, reviewer="UBOB", kind="reject", reason_tags=["policy_violation", "wrong_action"])  # 90
        clock.tick(30)
        deciding.decide(services, a2, reviewer="UBOB", kind="modify", edited_payload={"amount": 80},
                        reason_tags=["edge_case"])  # 120
        clock.tick(480)
        deciding.decide(services, a3, reviewer="UCAROL", kind="reject", reason_tags=["policy_violation"])  # 600
        clock.move_to("2026-06-07T08:00:00Z")
        propose(services, agent)  # still pending
    return services


def test_headline_matches_hand_computed_values(history):
    st = metrics.stats(history, None, 7, now=datetime(2026, 6, 8, tzinfo=UTC))
    c = st.current
    assert (c.proposed, c.reviewed, c.approved, c.modified, c.rejected, c.auto_approved) == (7, 4, 1, 1, 2, 1)
    assert c.override_rate == 0.25 and c.rejection_rate == 0.5  # 1/4 and 2/4
    assert (c.ttd_p50, c.ttd_p90) == (90, 600)  # nearest rank over [30, 90, 120, 600]
    assert c.distinct_tags == 3 and c.distinct_field_sets == 1
    assert c.top_tags == [("policy_violation", 2), ("edge_case", 1), ("wrong_action", 1)]
    assert c.intervention_rate == 5 / 7 and c.auto_approve_share == 1 / 7  # 7 proposed, 1 auto, 1 blocked
    p = st.previous
    assert (p.reviewed, p.approved, p.override_rate, p.rejection_rate, p.ttd_p50) == (1, 1, 0.0, 0.0, 60)
    assert st.pending == 1 and st.oldest_pending == datetime(2026, 6, 7, 8, tzinfo=UTC)
    text = "\n".join(stats_text.lines(st))
    assert "Override rate    25% of 4 reviewed by people (▲ 25 pts vs the previous window)" in text
    assert "Rejection rate   50% of 4 reviewed by people (▲ 50 pts vs the previous window)" in text
    assert "Time to decision p50 1.5m, p90 10.0m" in text
    assert c.top_fields == [("amount", 1)] and "Most modified    amount (1)" in text
    assert st.by_type == {"refund": ([("policy_violation", 2), ("edge_case", 1), ("wrong_action", 1)], [("amount", 1)])}


def test_breakdown_per_action_type_when_several_were_reviewed(history, agent):
    with freeze_time("2026-06-07T09:00:00Z"):
        a = propose(history, agent, "crm")  # sample mode, confidence 0.5 < 0.8: needs a person
        deciding.decide(history, a, reviewer="UALICE", kind="modify", edited_payload={"amount": 1, "note": "x"},
                        reason_tags=["incomplete_context"])
    text = stats_text.lines(metrics.stats(history, None, 7, now=datetime(2026, 6, 8, tzinfo=UTC)))
    assert "  crm: incomplete context (1); amount (1) modified, note (1) modified" in text
    assert "  refund: policy violation (2), edge case (1), wrong action (1); amount (1) modified" in text


def test_scope_by_action_type_and_agent(history, agent):
    now = datetime(2026, 6, 8, tzinfo=UTC)
    assert metrics.stats(history, "ping", 7, now=now).current.proposed == 1
    assert metrics.stats(history, agent.name, 7, now=now).current.proposed == 7
    assert metrics.stats(history, "nobody", 7, now=now).current.proposed == 0


@pytest.mark.parametrize("text,expected", [("", (None, 7)), ("30d", (None, 30)), ("refund 90d", ("refund", 90)),
                                           ("7d refund", ("refund", 7)), ("refund", ("refund", 7))])
def test_parse_args(text, expected):
    q = stats_text.parse_args(text)
    assert (q.subject, q.days, q.by) == (*expected, "week")


def test_trends_calibration_and_reviewers_match_hand_computed_values(history):
    st = metrics.stats(history, None, 7, now=datetime(2026, 6, 8, tzinfo=UTC))
    # Eight weeks ending 06-08: only the last two have reviews (a0 in 05-25..06-01, four in 06-01..06-08).
    assert [h.reviewed for _, h in st.trend] == [0, 0, 0, 0, 0, 0, 1, 4]
    assert st.trend[-1][0] == datetime(2026, 6, 1, tzinfo=UTC)
    assert stats_text.sparkline([h.override_rate for _, h in st.trend]) == "      ▁█"
    # All four reviewed proposals had confidence 0.5 and one was approved unmodified: ECE |0.25 − 0.5|.
    (bucket,) = [b for b in st.calibration.buckets if b.count]
    assert (bucket.low, bucket.count, bucket.approval_rate) == (0.5, 4, 0.25) and st.calibration.ece == 0.25
    assert [(r.reviewer, r.votes, r.median_seconds) for r in st.reviewers] == [("UBOB", 2, 105), ("UALICE", 1, 30),
                                                                                 ("UCAROL", 1, 600)]
    assert st.agreement.items == 0 and st.agreement.rate is None
    text = "\n".join(stats_text.lines(st))
    assert "Override rate    25% of 4 reviewed by people (▲ 25 pts vs the previous window)         ▁█" in text
    assert "Calibration      approved unmodified by confidence: 0.5–0.6: 25% of 4; ECE 0.25" in text
    assert "Reviewer load    UBOB 2 (median 1.8m), UALICE 1 (median 30s), UCAROL 1 (median 10.0m)" in text
    assert "Rubber stamp" not in text


def test_rubber_stamp_warning_and_inter_reviewer_agreement(services, agent):
    with freeze_time("2026-06-02T09:00:00Z") as clock:
        for _ in range(10):
            a = propose(services, agent)
            clock.tick(2)
            deciding.decide(services, a, reviewer="UALICE", kind="approve")  # ten approvals, 2 s each
        agree, split = propose(services, agent, amount=900), propose(services, agent, amount=900)  # two approvals needed
        clock.tick(60)
        deciding.decide(services, agree, reviewer="UBOB", kind="approve")
        deciding.decide(services, agree, reviewer="UCAROL", kind="approve")
        deciding.decide(services, split, reviewer="UBOB", kind="approve")
        deciding.decide(services, split, reviewer="UCAROL", kind="reject", reason_tags=["edge_case"])
    st = metrics.stats(services, "refund", 7, now=datetime(2026, 6, 3, tzinfo=UTC))
    alice = next(r for r in st.reviewers if r.reviewer == "UALICE")
    assert alice.rubber_stamp and alice.median_seconds == 2 and alice.approve_share == 1.0
    assert not any(r.rubber_stamp for r in st.reviewers if r.reviewer != "UALICE")
    assert (st.agreement.items, st.agreement.agreeing, st.agreement.rate) == (2, 1, 0.5)
    text = "\n".join(stats_text.lines(st))
    assert "⚠ Rubber stamp?  UALICE approved 100% of 10 in a median of 2s after seeing it" in text
    assert "Agreement        50% of 2 items reviewed more than once" in text
    by_day = metrics.stats(services, "refund by day", 7, now=datetime(2026, 6, 3, tzinfo=UTC))
    assert by_day.scope == "refund by day"  # not parsed here: parse_args does that
    q = stats_text.parse_args("refund 30d by day")
    assert (q.subject, q.days, q.by) == ("refund", 30, "day")
    daily = metrics.stats(services, q.subject, q.days, now=datetime(2026, 6, 3, tzinfo=UTC), by=q.by)
    assert len(daily.trend) == 14 and daily.trend[-1][1].reviewed == 12


def test_shadow_mode_agreement_is_reported(db, dispatcher, agent):
    from core.policy.loader import load_policy_text
    from core.services import Services
    from tests.fakes import FixedPolicy

    services = Services(db=db, policies=FixedPolicy(load_policy_text("action_types:\n  refund:\n    review_mode: shadow\n"
                                                             "    auto_approve_threshold: 0.5\n", "p.yaml")),
                dispatcher=dispatcher)
    with freeze_time("2026-06-02T09:00:00Z"):
        ids = [propose(services, agent) for _ in range(4)]  # confidence 0.5 ≥ threshold, still pending: shadow
        deciding.decide(services, ids[0], reviewer="UALICE", kind="approve")
        deciding.decide(services, ids[1], reviewer="UALICE", kind="approve")
        deciding.decide(services, ids[2], reviewer="UALICE", kind="modify", edited_payload={"amount": 1})
        deciding.decide(services, ids[3], reviewer="UALICE", kind="reject", reason_tags=["edge_case"])
    st = metrics.stats(services, "refund", 7, now=datetime(2026, 6, 3, tzinfo=UTC))
    assert (st.current.shadow_decided, st.current.shadow_agreed) == (4, 2)
    assert "Shadow mode      the agent's proposal matched the human's decision in 50% of 4" in stats_text.lines(st)


def test_hitl_stats_shows_the_threshold_and_autonomy_advice_of_hitl_recommend(services, agent, monkeypatch):
    with freeze_time("2026-06-02T09:00:00Z"):
        for confidence, kind, n in ((0.9, "approve", 80), (0.5, "reject", 10)):
            for _ in range(n):
                a = intake.submit(services, agent, Proposal(action_type="refund", title="t", payload={"amount": 1},
                                                        confidence=confidence))[0].id
                deciding.decide(services, a, reviewer="UALICE", kind=kind,
                                **({"reason_tags": ["wrong_action"]} if kind == "reject" else {}))
    now = datetime(2026, 6, 3, tzinfo=UTC)
    st = metrics.stats(services, "refund", 7, now=now)
    (r, a), = st.recommendations
    assert (r.threshold, r.samples, r.auto_approve_share) == (0.9, 80, 80 / 90)
    text = "\n".join(stats_text.lines(st))
    assert "Recommended      refund: auto_approve_threshold 0.9 would auto-approve 89%, escaped errors at most 4.6%" in text
    mine = metrics.Scope("mine", agent_ids=(agent.id,))
    assert metrics.stats(services, agent.name, 7, now=now, scope=mine).recommendations == []
    monkeypatch.setattr(metrics, "RECOMMEND_LIMIT", 10)
    skipped = metrics.stats(services, "refund", 7, now=now)
    assert skipped.recommendations == [] and "run `hitl recommend`" in "\n".join(stats_text.lines(skipped))


def test_rubber_stamping_counts_from_the_message_and_against_peers_and_low_ratings_are_flagged(services, agent):
    from core import reviews

    with freeze_time("2026-06-02T09:00:00Z") as clock:
        for i in range(10):  # posted ten minutes after the proposal, approved two seconds after that
            a = propose(services, agent)
            clock.tick(600)
            reviews.record_posted(services, a, "C0REVIEW", f"{i}.1")
            clock.tick(2)
            deciding.decide(services, a, reviewer="UALICE", kind="approve")
        for who, approvals in (("UBOB", 30), ("UCAROL", 18), ("UERIN", 18)):  # UBOB approves far more than peers
            for k in range(30):
                a = propose(services, agent, amount=10 + k)
                clock.tick(90)
                if k < approvals:
                    deciding.decide(services, a, reviewer=who, kind="approve")
                else:
                    deciding.decide(services, a, reviewer=who, kind="reject", reason_tags=["edge_case"])
    with freeze_time("2026-05-25T09:00:00Z"):  # the window before: accuracy already low
        for _ in range(5):
            deciding.decide(services, propose(services, agent), reviewer="UCAROL", kind="modify",
                            edited_payload={"amount": 1}, ratings={"accuracy": 2, "tone": 5})
    with freeze_time("2026-06-02T12:00:00Z"):
        for _ in range(6):
            deciding.decide(services, propose(services, agent), reviewer="UCAROL", kind="modify",
                            edited_payload={"amount": 1}, ratings={"accuracy": 1, "tone": 4})
    st = metrics.stats(services, "refund", 7, now=datetime(2026, 6, 3, tzinfo=UTC))
    assert [(s.reviewer, s.why) for s in st.stamps] == [("UALICE", "fast"), ("UBOB", "peers")]
    assert {r.reviewer for r in st.reviewers if r.rubber_stamp} == {"UALICE", "UBOB"}
    text = "\n".join(stats_text.lines(st))
    assert "⚠ Rubber stamp?  UALICE approved 100% of 10 in a median of 2s after seeing it" in text
    assert "⚠ Rubber stamp?  UBOB approved 100% of 30, peers 61% on the same action types" in text  # 46 of 76
    assert "Ratings (of 5)   refund: accuracy 1.0 (6), tone 4.0 (6)" in text
    assert "⚠ Low rating     refund accuracy: 1.0 of 5 over 6, and 2.0 the window before" in text
    assert "tone" not in text.split("⚠ Low rating")[-1]
