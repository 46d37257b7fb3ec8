"""The rollups behind /hitl-stats against brute force: a random history, decided through the real
paths (votes, quorum, modify, reject, expire, cancel, policy decisions, shadow mode), then every
figure compared with a direct count over the raw rows, for windows that end mid-hour."""
import random
import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from core import deciding, intake, lifecycle, metrics, rollups, stats_text, ttd_histogram
from core.agents import create_agent
from core.policy.loader import load_policy_text
from core.proposal import Proposal
from core.services import Services
from core.store.learning_tables import Rollup
from core.store.tables import Action, Vote
from tests.fakes import FixedPolicy

POLICY = """
version: rollups
action_types:
  refund:
    reviewers: [UALICE, UBOB, UCAROL]
    rules:
      - when: amount > 500
        approvals_required: 2
  email:
    review_mode: shadow
    auto_approve_threshold: 0.5
  ping:
    risk: low
    review_mode: auto
  nuke:
    review_mode: block
"""
START = datetime(2026, 3, 1, tzinfo=UTC)
HUMAN = ("approved", "modified", "rejected")


def _history(services, agents, seed=7, n=120):
    """Proposals over 20 days; each is later approved, modified, rejected, expired, cancelled or left pending."""
    rng = random.Random(seed)
    events = []
    for i in range(n):
        at = START + timedelta(seconds=rng.randrange(20 * 86400))
        events.append((at, "propose", i))
        fate = rng.choice(["approve", "approve", "modify", "reject", "expire", "cancel", "pending"])
        events.append((at + timedelta(seconds=rng.choice([1, 30, 95, 3600, 7 * 3600, 2 * 86400 + 17])), fate, i))
    ids: dict[int, tuple] = {}
    with freeze_time(START) as clock:
        for at, what, i in sorted(events, key=lambda e: (e[0], e[1] != "propose")):
            clock.move_to(at)
            if what == "propose":
                agent = agents[i % len(agents)]
                action_type = ["refund", "refund", "email", "ping", "nuke"][i % 5]
                amount = 900 if i % 7 == 0 else 100 + i
                p = Proposal(action_type=action_type, title=f"t{i}", payload={"amount": amount, "note": "n", "to": "x"},
                             confidence=rng.choice([0.3, 0.55, 0.65, 0.75, 0.85, 0.95]))
                ids[i] = (intake.submit(services, agent, p)[0].id, agent, amount)
                continue
            action_id, agent, amount = ids[i]
            with services.db.read() as s:
                action = s.get(Action, action_id)
            if action.status != "pending":
                continue
            reviewers = ["UALICE", "UBOB"] if action.approvals_required == 2 else [rng.choice(["UALICE", "UBOB", "UCAROL"])]
            if what in ("approve", "modify"):
                edit = {"amount": amount - 1} if rng.random() < 0.5 else {"note": "m", "to": "y"}
                for r in reviewers:
                    if what == "modify":
                        with services.db.read() as s:
                            current = s.get(Action, action_id).current_payload
                        deciding.decide(services, action_id, reviewer=r, kind="modify", edited_payload={**current, **edit},
                                        reason_tags=[rng.choice(["edge_case", "incomplete_context"])])
                    else:
                        deciding.decide(services, action_id, reviewer=r, kind="approve")
            elif what == "reject":
                if len(reviewers) == 2:  # a split: one approves, the other rejects
                    deciding.decide(services, action_id, reviewer=reviewers.pop(), kind="approve")
                deciding.decide(services, action_id, reviewer=reviewers[0], kind="reject",
                                reason_tags=rng.sample(["policy_violation", "wrong_action", "edge_case"], 2))
            elif what == "expire":
                lifecycle.expire(services, action_id, "test")
            elif what == "cancel":
                lifecycle.cancel(services, agent, action_id)
    return ids


@pytest.fixture
def history(db, dispatcher):
    services = Services(db=db, policies=FixedPolicy(load_policy_text(POLICY, "p.yaml")), dispatcher=dispatcher,
                        draw=lambda: 0.5)
    agents = [create_agent(db, "a1")[0], create_agent(db, "a2")[0]]
    _history(services, agents)
    return services, agents


def _rows(services):
    with services.db.read() as s:
        # Zero entries in a map are the same as none (a vote without approvals still writes "<who>\x1fok": 0).
        return {(r.grain, r.start, r.agent_id, r.action_type): {
            c.name: {k: v for k, v in value.items() if v} if isinstance(value := getattr(r, c.name), dict) else value
            for c in Rollup.__table__.columns} for r in s.scalars(select(Rollup))}


def test_rebuild_reproduces_the_rows_kept_incrementally(history):
    services, _ = history
    kept = _rows(services)
    assert len(kept) > 50
    with services.db.transaction() as s:
        assert rollups.rebuild(s, page=17) == 120  # small pages: the keyset paging is exercised
    assert _rows(services) == kept


def _oracle(services, start, end, action_type=None, agent_id=None):
    """The window's figures counted straight from actions and votes."""
    with services.db.read() as s:
        actions = [a for a in s.scalars(select(Action)) if (action_type is None or a.action_type == action_type)
                   and (agent_id is None or a.agent_id == agent_id)]
        votes = list(s.scalars(select(Vote)))
    proposed = [a for a in actions if start <= a.created_at < end]
    decided = [a for a in actions if a.decision in HUMAN and start <= a.decided_at < end]
    ids = {a.id for a in decided}
    tags = Counter(t for v in votes if v.action_id in ids for t in v.reason_tags or [])
    modified = [rollups.modified_fields(a.patch) for a in decided if a.decision == "modified"]
    ttd = [(a.decided_at - a.created_at).total_seconds() for a in decided]
    kinds: dict = {}
    for v in votes:
        if v.action_id in ids:
            kinds.setdefault((v.action_id, v.revision), []).append(v.kind)
    multi = [k for k in kinds.values() if len(k) > 1]
    cells = {}
    for a in decided:
        i = min(5, max(0, int(a.confidence * 10) - 4))  # [0, .5), [.5, .6), … [.9, 1]
        cells.setdefault(i, []).append(a)
    calibration = {i: (len(c), sum(a.confidence for a in c) / len(c), sum(a.decision == "approved" for a in c) / len(c))
                   for i, c in cells.items()}
    return dict(
        proposed=len(proposed), auto_approved=sum(a.decision == "auto_approved" for a in proposed),
        blocked=sum(a.decision == "blocked" for a in proposed),
        approved=sum(a.decision == "approved" for a in decided), modified=sum(a.decision == "modified" for a in decided),
        rejected=sum(a.decision == "rejected" for a in decided),
        shadow_decided=sum(a.review_mode == "shadow" for a in decided),
        shadow_agreed=sum(a.review_mode == "shadow" and a.decision == "approved" for a in decided),
        tags=dict(tags), fields=dict(Counter(f for m in modified for f in m)), field_sets=len(set(modified)),
        p50=metrics.percentile(ttd, 50), p90=metrics.percentile(ttd, 90),
        agreement=(len(multi), sum(len(set(k)) == 1 for k in multi)), calibration=calibration)


def _quality(st: metrics.Stats) -> dict:
    return dict(agreement=(st.agreement.items, st.agreement.agreeing),
                calibration={i: (b.count, pytest.approx(b.mean_confidence), b.approval_rate)
                             for i, b in enumerate(st.calibration.buckets) if b.count})


def _figures(h: metrics.Headline) -> dict:
    return dict(proposed=h.proposed, auto_approved=h.auto_approved, blocked=h.blocked,
                approved=h.approved, modified=h.modified, rejected=h.rejected, shadow_decided=h.shadow_decided,
                shadow_agreed=h.shadow_agreed, tags=dict(h.top_tags), fields=dict(h.top_fields),
                field_sets=h.distinct_field_sets, p50=h.ttd_p50, p90=h.ttd_p90)


@pytest.mark.parametrize("now,days,by", [
    (datetime(2026, 3, 12, 13, 47, 5, tzinfo=UTC), 7, "week"),  # windows and periods end mid-day
    (datetime(2026, 3, 9, 0, 0, tzinfo=UTC), 3, "day"),  # on a day boundary
    (datetime(2026, 3, 21, 5, 0, 1, tzinfo=UTC), 30, "week"),  # one window holds everything
    (datetime(2026, 3, 5, 23, 59, tzinfo=UTC), 1, "day"),  # shorter than the hours either side
])
def test_every_window_and_period_matches_a_count_over_the_raw_rows(history, now, days, by):
    services, agents = history
    for subject, action_type, agent_id in ((None, None, None), ("refund", "refund", None), ("a2", None, agents[1].id)):
        st = metrics.stats(services, subject, days, now=now, by=by)
        assert st.window.end == (now.replace(minute=0, second=0) + timedelta(hours=1) if now.minute or now.second
                                 else now)
        for window, head in ((st.window, st.current), (st.window.previous(), st.previous)):
            expected = _oracle(services, window.start, window.end, action_type, agent_id)
            quality = {k: expected.pop(k) for k in ("agreement", "calibration")}
            assert _figures(head) == expected
            if window == st.window:
                assert _quality(st) == quality
        length = metrics.PERIODS[by][0]
        for start, head in st.trend:
            expected = _oracle(services, start, start + timedelta(days=length), action_type, agent_id)
            del expected["agreement"], expected["calibration"]
            got = _figures(head)
            for p in ("p50", "p90"):  # older periods read time-to-decision from the 5% histogram
                if expected[p] is None:
                    assert got[p] is None
                else:
                    assert got[p] == pytest.approx(expected[p], rel=0.0251, abs=0.5)
                got[p] = expected[p]
            assert got == expected, start


def test_beyond_the_exact_limit_percentiles_and_medians_come_from_the_histograms(history, monkeypatch):
    services, _ = history
    now = datetime(2026, 3, 21, 5, 0, 1, tzinfo=UTC)
    exact = metrics.stats(services, None, 30, now=now)
    monkeypatch.setattr(metrics, "EXACT_LIMIT", 0)
    rolled = metrics.stats(services, None, 30, now=now)
    assert exact.current.ttd_exact and not rolled.current.ttd_exact
    for p in ("ttd_p50", "ttd_p90"):
        assert getattr(rolled.current, p) == pytest.approx(getattr(exact.current, p), rel=0.0251)
    assert [(r.reviewer, r.votes, r.approve_share) for r in rolled.reviewers] == \
        [(r.reviewer, r.votes, r.approve_share) for r in exact.reviewers]
    for r, e in zip(rolled.reviewers, exact.reviewers, strict=True):
        assert e.exact and not r.exact and r.median_seconds == pytest.approx(e.median_seconds, rel=0.0251)
    text = "\n".join(stats_text.lines(rolled))
    assert "Time to decision p50 ≈" in text and "(median ≈" in text
    assert "≈" not in "\n".join(stats_text.lines(exact))


def test_a_rolled_back_decision_leaves_no_count(db, dispatcher):
    services = Services(db=db, policies=FixedPolicy(load_policy_text(POLICY, "p.yaml")), dispatcher=dispatcher)
    agent = create_agent(db, "a1")[0]
    with freeze_time("2026-03-02T10:00:00Z"):
        action_id = intake.submit(services, agent, Proposal(action_type="refund", title="t", payload={"amount": 1},
                                                        confidence=0.5))[0].id
        with pytest.raises(RuntimeError), services.db.transaction() as s:
            action = s.get(Action, action_id)
            action.decision, action.decided_at = "approved", datetime.now(UTC)
            rollups.decided(s, action, [])  # no votes
            raise RuntimeError("the rest of the decision failed")
        st = metrics.stats(services, None, 1, now=datetime(2026, 3, 2, 11, tzinfo=UTC))
    assert (st.current.proposed, st.current.reviewed) == (1, 0)


@pytest.mark.parametrize("n", [1, 2, 5000, 5001])
def test_histogram_percentiles_and_medians_are_within_two_and_a_half_percent(n):
    rng = random.Random(n)
    values = [rng.lognormvariate(4, 2) for _ in range(n)]
    histogram = Counter(ttd_histogram.ttd_bucket(v) for v in values)
    for p in (1, 10, 50, 90, 99):
        exact = metrics.percentile(values, p)
        assert ttd_histogram.ttd_percentile(histogram, p) == pytest.approx(exact, rel=0.0251, abs=0.5)
    assert ttd_histogram.ttd_median(histogram) == pytest.approx(statistics.median(values), rel=0.0251, abs=0.5)
    assert ttd_histogram.ttd_median(Counter()) is None and ttd_histogram.ttd_percentile(Counter(), 50) is None


def test_modified_fields_unescape_json_pointer():
    patch = [{"op": "replace", "path": "/a~1b/c", "value": 1}, {"op": "add", "path": "/m~0n", "value": 2},
             {"op": "remove", "path": "/x"}]
    assert rollups.modified_fields(patch) == {"a/b", "m~n", "x"}
