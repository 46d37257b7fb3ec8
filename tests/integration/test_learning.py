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


def test_earned_autonomy_promotes_review_to_sample_only_on_enough_evidence(services, agent):
    _reviewed(services, agent, 99, "approve")
    keep = recommend.autonomy(services, "refund", "review")
    assert keep.recommended is None and not keep.alert and "99 of 99" in keep.why
    _reviewed(services, agent, 101, "approve")
    up = recommend.autonomy(services, "refund", "review")
    assert up.recommended == "sample" and "200 of 200" in up.why  # lower bound 98.1 % ≥ 98 %


def test_miscalibrated_high_confidence_raises_an_alert_and_moves_back(services, agent):
    _reviewed(services, agent, 14, "approve", confidence=0.95)
    _reviewed(services, agent, 6, "reject", confidence=0.95)  # 6 of 20 overridden: lower bound 14.5 % > 10 %
    a = recommend.autonomy(services, "refund", "sample")
    assert a.alert and a.recommended == "review" and "6 of 20 proposals at confidence ≥ 0.9" in a.why


def test_sampled_audits_promote_to_auto_or_show_drift(db, dispatcher, agent):
    from core import spot_checks
    from core.policy.loader import load_policy_text
    from core.services import Services
    from tests.fakes import FixedPolicy, StaticGroups

    policy = load_policy_text("action_types:\n  crm:\n    risk: low\n    review_mode: sample\n    sample_rate: 1\n",
                              "p.yaml")
    services = Services(db=db, policies=FixedPolicy(policy), dispatcher=dispatcher)

    def audit(n, verdict):
        for _ in range(n):
            a = intake.submit(services, agent, Proposal(action_type="crm", title="c", payload={}, confidence=0.9))[0]
            spot_checks.record_verdict(services, a.id, "UALICE", verdict, ["edge_case"] if verdict == "flagged" else [],
                                    StaticGroups({}))

    audit(180, spot_checks.LOOKS_RIGHT)
    assert recommend.autonomy(services, "crm", "sample").recommended is None  # 0 of 180: escaped at most 2.1 %
    audit(20, spot_checks.LOOKS_RIGHT)
    up = recommend.autonomy(services, "crm", "sample")
    assert up.recommended == "auto" and "0 of 200 audited samples flagged (escaped errors at most 1.9%)" in up.why
    audit(20, spot_checks.FLAGGED)  # 20 of 220 flagged: lower bound 6.0 % > 5 %
    down = recommend.autonomy(services, "crm", "auto")
    assert down.alert and down.recommended == "sample" and "drift: 20 of 220" in down.why


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
