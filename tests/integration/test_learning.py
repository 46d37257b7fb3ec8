"""The learning loop's first pieces: few-shot examples and Wilson threshold recommendations,
checked against a known history."""
import json

import pytest

from core import corrected_examples, deciding, intake, recommend
from core.agents import create_agent
from core.proposal import Proposal


def propose(services, agent, confidence=0.5, amount=10, title="Refund"):
    return intake.submit(services, agent, Proposal(action_type="refund", title=title, payload={"amount": amount},
                                               confidence=confidence))[0]


def test_wilson_lower_bound_matches_known_values():
    assert recommend.wilson_lower(0, 0) == 0.0
    assert recommend.wilson_lower(10, 10) == pytest.approx(0.7225, abs=1e-4)  # the classic 10/10 case
    assert recommend.wilson_lower(95, 100) == pytest.approx(0.8882, abs=1e-4)
    assert recommend.wilson_lower(990, 1000) == pytest.approx(0.9817, abs=1e-4)


def test_examples_are_the_agents_own_human_corrections_newest_first(services, agent, db):
    approved = propose(services, agent, title="approved")
    deciding.decide(services, approved.id, reviewer="UALICE", kind="approve")
    modified = propose(services, agent, amount=120, title="modified")
    deciding.decide(services, modified.id, reviewer="UALICE", kind="modify", edited_payload={"amount": 100},
                    reason_tags=["incorrect_reasoning"], comment="shipping is not refundable")
    rejected = propose(services, agent, title="rejected")
    deciding.decide(services, rejected.id, reviewer="UBOB", kind="reject", reason_tags=["policy_violation"])
    other, _ = create_agent(db, "other-agent")
    foreign = propose(services, other, title="someone else's")
    deciding.decide(services, foreign.id, reviewer="UBOB", kind="reject", reason_tags=["edge_case"])

    got = corrected_examples.recent(services, agent, "refund", limit=5)
    assert [e.title for e in got] == ["rejected", "modified"]
    rej, mod = got
    assert (rej.outcome, rej.corrected_payload, rej.reason_tags, rej.reviewers) == ("rejected", None,
                                                                                   ["policy_violation"], ["UBOB"])
    assert mod.proposed_payload == {"amount": 120} and mod.corrected_payload == {"amount": 100}
    assert mod.patch == [{"op": "replace", "path": "/amount", "value": 100}]
    assert mod.comment == "shipping is not refundable" and mod.reason_tags == ["incorrect_reasoning"]
    assert [e.title for e in corrected_examples.recent(services, agent, "refund", limit=1)] == ["rejected"]

    from hitl_client import examples_prompt

    text = examples_prompt([e.model_dump(mode="json") for e in got])
    assert 'You proposed: {"amount": 120}' in text and 'approved instead: {"amount": 100}' in text
    assert "The reviewer rejected it." in text and "Reasons: policy_violation" in text


def test_threshold_is_the_lowest_whose_wilson_bound_meets_the_target(services, agent):
    # 40 proposals at 0.9 all approved; 20 at 0.7 with 4 rejected; 10 at 0.5 all rejected.
    history = [(0.9, "approve")] * 40 + [(0.7, "approve")] * 16 + [(0.7, "reject")] * 4 + [(0.5, "reject")] * 10
    for confidence, kind in history:
        a = propose(services, agent, confidence=confidence)
        deciding.decide(services, a.id, reviewer="UALICE", kind=kind,
                        **({"reason_tags": ["wrong_action"]} if kind == "reject" else {}))
    r = recommend.recommend(services, "refund", target=0.9, min_samples=30)
    assert r.threshold == 0.9 and r.samples == 40 and r.approval_rate == 1.0
    assert r.wilson_lower == pytest.approx(recommend.wilson_lower(40, 40))
    assert r.auto_approve_share == pytest.approx(40 / 70)
    assert r.expected_escaped_rate == pytest.approx(1 - recommend.wilson_lower(40, 40))
    # Including 0.7 gives 56 of 60 (93.3%), whose lower bound (84.1%) misses 0.9 but meets 0.8.
    assert recommend.recommend(services, "refund", target=0.8, min_samples=30).threshold == 0.7
    nothing = recommend.recommend(services, "refund", target=0.9, min_samples=50)
    assert nothing.threshold is None and "at least 50" in nothing.why


def test_export_formats_hold_exactly_the_human_labels(services, agent, monkeypatch):
    from core import export

    monkeypatch.setattr(export, "BATCH", 2)  # several pages, to exercise the keyset pagination
    auto = intake.submit(services, agent, Proposal(action_type="ping", title="ping", payload={}, confidence=0.9))[0]
    approved = propose(services, agent, title="approved")
    deciding.decide(services, approved.id, reviewer="UALICE", kind="approve", comment="fine")
    modified = propose(services, agent, amount=120, title="modified")
    deciding.decide(services, modified.id, reviewer="UBOB", kind="modify", edited_payload={"amount": 100},
                    reason_tags=["edge_case"])
    rejected = propose(services, agent, title="rejected")
    deciding.decide(services, rejected.id, reviewer="UBOB", kind="reject", reason_tags=["wrong_action"])
    propose(services, agent, title="still pending")

    raw = list(export.records(services, "raw"))
    assert [r["action_id"] for r in raw] == [auto.id, approved.id, modified.id, rejected.id]
    assert export.count(services, "raw") == 4
    assert raw[2]["votes"][0]["kind"] == "modify" and raw[2]["final_payload"] == {"amount": 100}
    sft = list(export.records(services, "sft"))
    assert [(r["meta"]["action_id"], r["output"]) for r in sft] == [(approved.id, {"amount": 10}),
                                                                    (modified.id, {"amount": 100})]
    assert sft[0]["input"] == {"agent": "test-agent", "action_type": "refund", "title": "approved", "reasoning": "",
                               "context": {}}
    (pref,) = export.records(services, "preference")
    assert (pref["chosen"], pref["rejected"], pref["meta"]["reason_tags"]) == ({"amount": 100}, {"amount": 120},
                                                                             ["edge_case"])


def test_export_masks_masked_fields_unless_asked_for_them(db, dispatcher, agent):
    from core import export
    from core.policy.loader import load_policy_text
    from core.services import Services
    from tests.fakes import FixedPolicy

    policy = "action_types:\n  wire:\n    reviewers: [UALICE]\n    mask_fields: [/customer/ssn, /iban]\n"
    services = Services(db=db, policies=FixedPolicy(load_policy_text(policy, "mask.yaml")), dispatcher=dispatcher)
    payload = {"amount": 5, "iban": "DE89-SECRET", "customer": {"name": "Ann", "ssn": "123-45-6789"}}
    a = intake.submit(services, agent, Proposal(action_type="wire", title="w", payload=payload, confidence=0.5))[0]
    edited = {"amount": 4, "iban": "DE00-OTHER", "customer": {"name": "Ann", "ssn": "999-99-9999"}}
    deciding.decide(services, a.id, reviewer="UALICE", kind="modify", edited_payload=edited)

    for fmt in export.FORMATS:
        text = json.dumps(list(export.records(services, fmt)))
        for secret in ("SECRET", "OTHER", "123-45", "999-99"):
            assert secret not in text, (fmt, secret)
    (raw,) = export.records(services, "raw")
    assert raw["final_payload"] == {"amount": 4, "iban": "••••••", "customer": {"name": "Ann", "ssn": "••••••"}}
    assert {"op": "replace", "path": "/amount", "value": 4} in raw["patch"] and "amount: 5 → 4" in raw["text_diff"]
    (unmasked,) = export.records(services, "raw", unmasked=True)
    assert unmasked["final_payload"] == edited and "999-99" in json.dumps(unmasked["votes"])


def _reviewed(services, agent, n, kind, confidence=0.5):
    for _ in range(n):
        a = propose(services, agent, confidence=confidence)
        deciding.decide(services, a.id, reviewer="UALICE", kind=kind,
                        **({"reason_tags": ["wrong_action"]} if kind == "reject" else {}))


def test_review_to_sample_is_reachable_with_needless_edits_and_judged_on_would_be_escaped_errors(services, agent):
    from core import autonomy

    _reviewed(services, agent, 99, "approve")
    keep = autonomy.autonomy(services, "refund", "review")
    assert keep.recommended is None and not keep.alert and "0 of 99 reviewed were modified or rejected" in keep.why
    _reviewed(services, agent, 490, "approve")
    for _ in range(6):  # a 1 % rate of needless edits: unmodified approvals never reach a 98 % lower bound
        a = propose(services, agent)
        deciding.decide(services, a.id, reviewer="UALICE", kind="modify", edited_payload={"amount": 11})
    up = autonomy.autonomy(services, "refund", "review")
    assert up.recommended == "sample" and "6 of 595 reviewed were modified or rejected" in up.why
    assert "at most 2.2% errors" in up.why and up.audit_rate == 0.25  # 20 a week of ~140 would be 0.14: the floor
    assert up.why.endswith("(proposals without an agent_version, last 30 days)")


def test_miscalibrated_high_confidence_raises_an_alert_and_moves_back(services, agent):
    from core import autonomy

    _reviewed(services, agent, 14, "approve", confidence=0.95)
    _reviewed(services, agent, 6, "reject", confidence=0.95)  # 6 of 20 overridden: lower bound 14.5 % > 10 %
    a = autonomy.autonomy(services, "refund", "sample")
    assert a.alert and a.recommended == "review" and "6 of 20 reviewed proposals at confidence ≥ 0.9" in a.why


def test_spot_checks_promote_sample_to_auto_or_send_it_back(db, dispatcher, agent):
    from core import autonomy, spot_checks
    from core.policy.loader import load_policy_text
    from core.services import Services
    from tests.fakes import FixedPolicy, StaticGroups

    # on_suspicion: check keeps every verdict a spot check (the default holds drawn ones for a review first)
    policy = load_policy_text("action_types:\n  crm:\n    risk: low\n    review_mode: sample\n    sample_rate: 1\n"
                              "    on_suspicion: check\n", "p.yaml")
    services = Services(db=db, policies=FixedPolicy(policy), dispatcher=dispatcher)

    def audit(n, verdict):
        for _ in range(n):
            a = intake.submit(services, agent, Proposal(action_type="crm", title="c", payload={}, confidence=0.9))[0]
            spot_checks.record_verdict(services, a.id, "UALICE", verdict, ["edge_case"] if verdict == "flagged" else [],
                                    StaticGroups({}))

    audit(180, spot_checks.LOOKS_RIGHT)
    assert autonomy.autonomy(services, "crm", "sample").recommended is None  # 0 of 180: escaped at most 2.1 %
    audit(20, spot_checks.LOOKS_RIGHT)
    up = autonomy.autonomy(services, "crm", "sample")
    assert up.recommended == "auto" and "0 of 200 spot checks flagged (escaped errors at most 1.9%)" in up.why
    for _ in range(40):  # one flag in three: the drift test fires along the way
        audit(1, spot_checks.FLAGGED)
        audit(2, spot_checks.LOOKS_RIGHT)
    down = autonomy.autonomy(services, "crm", "auto")
    assert down.alert and down.recommended == "sample" and down.why.startswith("drift: ")
    from core import drift

    drift.clear(services, "crm", by="UALICE")  # the alarm is cleared, but the window's evidence still says no
    still = autonomy.autonomy(services, "crm", "auto")
    assert still.alert and still.recommended == "sample"
    assert "escaped errors: 40 of 320 spot checks flagged; an estimated 12.5% of auto-approvals" in still.why


def test_a_new_agent_version_starts_without_the_old_ones_evidence(services, agent):
    from core import evidence

    for version, n in (("v1", 40), ("v2", 3)):
        for _ in range(n):
            a = intake.submit(services, agent, Proposal(action_type="refund", title="t", payload={"amount": 1},
                                                        confidence=0.9, agent_version=version))[0]
            deciding.decide(services, a.id, reviewer="UALICE", kind="approve")
    assert recommend.recommend(services, "refund", target=0.9, min_samples=30).threshold is None
    assert "agent version v2" in recommend.recommend(services, "refund", target=0.9, min_samples=30).why
    told = recommend.recommend(services, "refund", target=0.9, min_samples=30, all_versions=True)
    assert told.threshold == 0.9 and told.samples == 43 and "all agent versions" in told.why
    assert evidence.gather(services, "refund").reviewed == 3

    from core import metrics, stats_text

    split = stats_text.lines(metrics.stats(services, "refund", 7, versions=True))
    assert [line for line in split if line.startswith("Agent version")] == [
        "Agent version    v2: 3 proposed, 3 reviewed by people, override 0%, rejection 0%, 0 auto-approved, "
        "0 of 0 spot checks flagged",
        "Agent version    v1: 40 proposed, 40 reviewed by people, override 0%, rejection 0%, 0 auto-approved, "
        "0 of 0 spot checks flagged"]
    assert stats_text.parse_args("refund 30d by version by day") == stats_text.Query("refund", 30, "day", True)


def test_spot_checks_keep_the_threshold_evidence_from_freezing(db, dispatcher, agent):
    from core import spot_checks
    from core.policy.loader import load_policy_text
    from core.services import Services
    from tests.fakes import FixedPolicy, StaticGroups

    policy = load_policy_text("action_types:\n  refund:\n    risk: medium\n    auto_approve_threshold: 0.8\n"
                              "    audit_rate: 1\n    on_suspicion: check\n", "p.yaml")
    services = Services(db=db, policies=FixedPolicy(policy), dispatcher=dispatcher, draw=lambda: 0.0)
    for i in range(40):  # all auto-approved: no review sees them, the spot checks do
        a = intake.submit(services, agent, Proposal(action_type="refund", title="t", payload={"amount": 1},
                                                    confidence=0.9))[0]
        verdict = spot_checks.FLAGGED if i % 4 == 0 else spot_checks.LOOKS_RIGHT
        spot_checks.record_verdict(services, a.id, "UALICE", verdict, ["edge_case"] if verdict == "flagged" else [],
                                   StaticGroups({}))
    drifting = recommend.recommend(services, "refund", target=0.9, min_samples=30, current=0.8)
    assert drifting.threshold is None and drifting.why.startswith("a drift alarm is open")  # 1 in 4 flagged
    from core import drift

    drift.clear(services, "refund", by="UALICE")
    r = recommend.recommend(services, "refund", target=0.9, min_samples=30, current=0.8)
    assert r.threshold is None and r.checked == 40 and "judged: 40" in r.why  # 30 of 40 right: against it


def test_a_threshold_in_force_is_kept_on_thin_evidence_that_does_not_contradict_it(db, dispatcher, agent):
    from core import spot_checks
    from core.policy.loader import load_policy_text
    from core.services import Services
    from tests.fakes import FixedPolicy, StaticGroups

    policy = load_policy_text("action_types:\n  refund:\n    risk: medium\n    auto_approve_threshold: 0.8\n"
                              "    audit_rate: 1\n", "p.yaml")
    services = Services(db=db, policies=FixedPolicy(policy), dispatcher=dispatcher, draw=lambda: 0.0)
    for _ in range(8):  # once a threshold applies, only spot checks see what is above it
        a = intake.submit(services, agent, Proposal(action_type="refund", title="t", payload={"amount": 1},
                                                    confidence=0.9))[0]
        spot_checks.record_verdict(services, a.id, "UALICE", spot_checks.LOOKS_RIGHT, [], StaticGroups({}))
    kept = recommend.recommend(services, "refund", target=0.95, min_samples=30, current=0.8)
    assert kept.threshold == 0.8 and kept.why.startswith("keep 0.8: 8 of 8 judged at or above it")
    assert recommend.recommend(services, "refund", target=0.95, min_samples=30).threshold is None  # nothing to keep


def test_the_cost_curve_picks_the_cheapest_threshold(services, agent):
    history = [(0.95, "approve")] * 60 + [(0.8, "approve")] * 27 + [(0.8, "reject")] * 3 + [(0.5, "reject")] * 10
    for confidence, kind in history:
        a = propose(services, agent, confidence=confidence)
        deciding.decide(services, a.id, reviewer="UALICE", kind=kind,
                        **({"reason_tags": ["wrong_action"]} if kind == "reject" else {}))
    cheap_errors = recommend.recommend(services, "refund", min_samples=30, cost_error=10, cost_review=5)
    assert cheap_errors.threshold == 0.8 and [p.threshold for p in cheap_errors.curve] == [None, 0.95, 0.8, 0.5]
    costly_errors = recommend.recommend(services, "refund", min_samples=30, cost_error=10_000, cost_review=5)
    assert costly_errors.threshold is None and "reviewing everything is cheapest" in costly_errors.why
    middle = recommend.recommend(services, "refund", min_samples=30, cost_error=300, cost_review=5)
    assert middle.threshold == 0.95  # 1.6 % smoothed error at 0.95 is worth it; 4.4 % at 0.8 is not
    best = min(middle.curve, key=lambda p: p.cost_per_1000)
    assert best.threshold == 0.95 and best.cost_per_1000 == pytest.approx(1000 * (0.4 * 5 + 0.6 * (1 / 62) * 300))


def test_examples_balance_failure_patterns_include_flags_and_find_the_similar(db, dispatcher, agent):
    from freezegun import freeze_time

    from core import spot_checks
    from core.policy.loader import load_policy_text
    from core.services import Services
    from tests.fakes import FixedPolicy, StaticGroups

    policy = load_policy_text("action_types:\n  refund:\n    risk: medium\n    auto_approve_threshold: 0.9\n"
                              "    audit_rate: 1\n", "p.yaml")
    services = Services(db=db, policies=FixedPolicy(policy), dispatcher=dispatcher, draw=lambda: 0.0)

    def refund(payload, confidence=0.5, **extra):
        return intake.submit(services, agent, Proposal(action_type="refund", title=f"Refund {payload}", payload=payload,
                                                   confidence=confidence, **extra))[0]

    with freeze_time("2026-06-01", auto_tick_seconds=1):
        old = refund({"amount": 50, "currency": "EUR"}, summary="EUR order", context={"order": "o-1"})
        deciding.decide(services, old.id, reviewer="UALICE", kind="modify",
                        edited_payload={"amount": 50, "currency": "USD"}, reason_tags=["incorrect_reasoning"])
        ran = refund({"amount": 7, "currency": "USD"}, confidence=0.95)  # auto-approved, drawn, then flagged
        spot_checks.record_verdict(services, ran.id, "UBOB", spot_checks.FLAGGED, ["policy_violation"], StaticGroups({}))
        burst = []
        for i in range(6):  # a burst of one mistake: the shipping fee refunded too
            a = refund({"amount": 100 + i, "currency": "USD"})
            deciding.decide(services, a.id, reviewer="UALICE", kind="modify",
                            edited_payload={"amount": 90 + i, "currency": "USD"}, reason_tags=["incorrect_reasoning"])
            burst.append(a)

    got = corrected_examples.recent(services, agent, "refund", limit=3)
    # The commonest pattern first, then the others newest first: the burst cannot push them out.
    assert [e.pattern for e in got] == ["fields:amount", "tags:policy_violation", "fields:currency"]
    assert got[0].action_id == burst[-1].id
    currency = got[2]
    assert (currency.summary, currency.context) == ("EUR order", {"order": "o-1"})
    flagged = got[1]
    assert (flagged.outcome, flagged.action_id, flagged.reviewers) == ("flagged", ran.id, ["UBOB"])

    near = corrected_examples.recent(services, agent, "refund", limit=2, similar_to={"amount": 50, "currency": "EUR"})
    assert near[0].action_id == old.id

    from hitl_client import examples_prompt

    text = examples_prompt([e.model_dump(mode="json") for e in got])
    assert "Your reasoning: EUR order" in text and 'The context: {"order": "o-1"}' in text
    assert "a spot check said it should not have" in text


def test_hitl_stats_shows_a_threshold_kept_on_thin_evidence(db, dispatcher, agent):
    from core import metrics, spot_checks, stats_text
    from core.policy.loader import load_policy_text
    from core.services import Services
    from tests.fakes import FixedPolicy, StaticGroups

    policy = load_policy_text("action_types:\n  refund:\n    risk: medium\n    auto_approve_threshold: 0.8\n"
                              "    audit_rate: 1\n", "p.yaml")
    services = Services(db=db, policies=FixedPolicy(policy), dispatcher=dispatcher, draw=lambda: 0.0)
    for kind in ("approve", "approve"):  # a review, so the type is in the report's advice
        a = intake.submit(services, agent, Proposal(action_type="refund", title="t", payload={"amount": 1},
                                                    confidence=0.5))[0]
        deciding.decide(services, a.id, reviewer="UALICE", kind=kind)
    a = intake.submit(services, agent, Proposal(action_type="refund", title="t", payload={"amount": 1}, confidence=0.9))[0]
    spot_checks.record_verdict(services, a.id, "UALICE", spot_checks.LOOKS_RIGHT, [], StaticGroups({}))
    text = "\n".join(stats_text.lines(metrics.stats(services, "refund", 7)))
    assert "Recommended      refund: auto_approve_threshold 0.8 would auto-approve 33% (keep 0.8: 1 of 1" in text
