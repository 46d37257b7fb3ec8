"""Risk is enforced, not only a label: a policy that gives a risk less scrutiny than its class is
refused with file and line, and a proposal whose agent raised its risk is routed to that class."""
import pytest

from core.errors import PolicyError
from core.policy import load_policy_text, route
from core.proposal import Proposal
from core.vocabulary import ReviewMode, Risk, Status


def problems(text: str) -> list[str]:
    with pytest.raises(PolicyError) as exc:
        load_policy_text(text, "p.yaml")
    return exc.value.problems


def test_critical_auto_approval_is_refused_with_file_and_line():
    found = problems("""action_types:
  wire:
    risk: critical
    review_mode: auto
""")
    assert found == [
        "p.yaml:4: action_types.wire.review_mode: review_mode auto is looser than risk critical requires "
        "(risk_classes.critical.min_review_mode: review)",
        "p.yaml:2: action_types.wire.approvals_required: approvals_required 1 is fewer than risk critical requires "
        "(risk_classes.critical.min_approvals: 2)",
    ]


def test_a_threshold_on_critical_and_an_unstated_high_risk_are_refused():
    found = problems("""action_types:
  wire:
    risk: critical
    approvals_required: 2
    auto_approve_threshold: 0.99
  ping:
    review_mode: sample
""")
    assert found[0].startswith("p.yaml:5: action_types.wire.auto_approve_threshold: auto_approve_threshold 0.99 "
                               "would auto-approve")
    assert found[1] == ("p.yaml:7: action_types.ping.review_mode: review_mode sample is looser than risk high requires "
                        "(risk_classes.high.min_review_mode: review); an action type without `risk` is high risk")
    assert len(found) == 2


def test_a_rule_is_checked_as_the_combination_it_makes():
    found = problems("""action_types:
  refund:
    risk: low
    review_mode: auto
    rules:
      - when: amount > 500
        risk: critical
        approvals_required: 2
""")
    assert found == ["p.yaml:6: action_types.refund.rules[0]: review_mode auto is looser than risk critical requires "
                     "(risk_classes.critical.min_review_mode: review)"]


def test_block_needs_nothing_and_high_may_keep_a_threshold_in_review():
    load_policy_text("""action_types:
  wire: {risk: critical, review_mode: block}
  refund: {risk: high, auto_approve_threshold: 0.97}
""")


def test_risk_classes_written_in_the_file_replace_the_defaults_for_their_risk():
    policy = load_policy_text("""risk_classes:
  medium: {min_review_mode: sample}
  high: {min_review_mode: sample}
action_types:
  refund: {risk: high, review_mode: sample}
""").policy
    assert policy.risk_class(Risk.CRITICAL).min_approvals == 2  # still the default
    assert problems("risk_classes:\n  medium: {min_review_mode: sample}\n"
                    "action_types:\n  x: {risk: medium, review_mode: auto}\n")
    assert "min_review_mode is auto, sample or review" in problems("risk_classes:\n  high: {min_review_mode: block}\n")[0]
    assert "risk_classes.urgent" in problems("risk_classes:\n  urgent: {min_approvals: 3}\n")[0]


POLICY = load_policy_text("""
action_types:
  refund:
    risk: low
    review_mode: auto
    auto_approve_threshold: 0.5
""").policy


def proposal(risk: Risk | None, confidence: float = 0.99) -> Proposal:
    return Proposal(action_type="refund", title="t", payload={"amount": 1_000_000}, confidence=confidence, risk=risk)


def test_a_risk_raised_by_the_agent_routes_to_its_class():
    assert route(POLICY, proposal(None)).status is Status.AUTO_APPROVED
    critical = route(POLICY, proposal(Risk.CRITICAL))
    assert critical.status is Status.PENDING and critical.review_mode is ReviewMode.REVIEW
    assert critical.approvals_required == 2 and critical.risk is Risk.CRITICAL
    assert critical.explanation.startswith("risk critical requires review_mode review, 2 approvals, no auto-approval "
                                           "(risk_classes); ")
    high = route(POLICY, proposal(Risk.HIGH))
    assert high.status is Status.AUTO_APPROVED  # in review mode now, but high may keep its threshold
    assert high.review_mode is ReviewMode.REVIEW and high.approvals_required == 1
    assert route(POLICY, proposal(Risk.HIGH, confidence=0.1)).status is Status.PENDING
