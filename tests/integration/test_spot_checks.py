"""Sample mode: a drawn fraction of auto-approvals is audited after the fact; flags are escaped errors."""
import pytest

from core import intake, spot_checks
from core.errors import AlreadyDecided, InvalidRequest, NotAuthorised
from core.proposal import Proposal
from core.services import Services
from core.vocabulary import Status
from tests.fakes import StaticGroups


def crm(services, agent, confidence=0.9):
    return intake.submit(services, agent, Proposal(action_type="crm", title="Update CRM", payload={"x": 1},
                                               confidence=confidence))[0]


@pytest.fixture
def sampled_gate(services: Services) -> Services:
    return services


def test_a_drawn_auto_approval_is_queued_for_audit_and_an_undrawn_one_is_not(sampled_gate, agent):
    # The conftest policy samples crm at 0.5 and the gate's draw is pinned at 0.25.
    a = crm(sampled_gate, agent)
    assert a.status is Status.AUTO_APPROVED
    assert sampled_gate.dispatcher.spot_checks == [a.id] and spot_checks.get(sampled_gate, a.id).verdict is None
    sampled_gate.draw = lambda: 0.75
    b = crm(sampled_gate, agent)
    assert spot_checks.get(sampled_gate, b.id) is None and sampled_gate.dispatcher.spot_checks == [a.id]
    c = crm(sampled_gate, agent, confidence=0.5)  # below the threshold: reviewed before, not audited after
    assert c.status is Status.PENDING and spot_checks.get(sampled_gate, c.id) is None


def test_a_flag_needs_a_known_reason_and_the_first_verdict_stands(sampled_gate, agent):
    a = crm(sampled_gate, agent)
    groups = StaticGroups({})
    with pytest.raises(InvalidRequest, match="pick a reason tag"):
        spot_checks.record_verdict(sampled_gate, a.id, "UALICE", spot_checks.FLAGGED, [], groups)
    with pytest.raises(InvalidRequest, match="unknown reason tag"):
        spot_checks.record_verdict(sampled_gate, a.id, "UALICE", spot_checks.FLAGGED, ["made_up"], groups)
    item = spot_checks.record_verdict(sampled_gate, a.id, "UALICE", spot_checks.FLAGGED, ["policy_violation"], groups)
    assert (item.verdict, item.reason_tags, item.auditor) == ("flagged", ["policy_violation"], "UALICE")
    with pytest.raises(AlreadyDecided, match="already flagged by UALICE"):
        spot_checks.record_verdict(sampled_gate, a.id, "UBOB", spot_checks.LOOKS_RIGHT, [], groups)


def test_only_the_routes_reviewers_may_audit(db, dispatcher, agent):
    from core.policy.loader import load_policy_text
    from tests.fakes import FixedPolicy

    policy = load_policy_text("action_types:\n  crm:\n    risk: low\n    review_mode: sample\n    sample_rate: 1\n"
                              "    reviewers: [UALICE, S0AUD]\n", "p.yaml")
    services = Services(db=db, policies=FixedPolicy(policy), dispatcher=dispatcher)
    a = crm(services, agent)
    with pytest.raises(NotAuthorised):
        spot_checks.record_verdict(services, a.id, "UMALLORY", spot_checks.LOOKS_RIGHT, [],
                                   StaticGroups({"S0AUD": ["UDAVE"]}))
    assert spot_checks.get(services, a.id).verdict is None
    spot_checks.record_verdict(services, a.id, "UDAVE", spot_checks.LOOKS_RIGHT, [], StaticGroups({"S0AUD": ["UDAVE"]}))
    assert spot_checks.get(services, a.id).verdict == "looks_right"


def test_flags_count_as_escaped_errors_in_the_metrics(sampled_gate, agent):
    from core import metrics, stats_text

    items = [crm(sampled_gate, agent) for _ in range(3)]
    groups = StaticGroups({})
    spot_checks.record_verdict(sampled_gate, items[0].id, "UALICE", spot_checks.FLAGGED, ["edge_case"], groups)
    spot_checks.record_verdict(sampled_gate, items[1].id, "UALICE", spot_checks.LOOKS_RIGHT, [], groups)
    st = metrics.stats(sampled_gate, "crm")
    assert (st.current.sampled, st.current.audited, st.current.escaped) == (3, 2, 1)
    text = "\n".join(stats_text.lines(st))
    assert "Spot checks      2 of 3 checked; 1 flagged as should not have happened (escaped errors)" in text
