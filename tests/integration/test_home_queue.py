"""App Home's queue: what waits for one reviewer, most urgent first (SLA, risk, margin below the threshold)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from core import deciding, home_queue, intake
from core.access import NoGroups
from core.policy.loader import load_policy_text
from core.proposal import Proposal
from core.services import Services
from core.store.tables import Action
from tests.conftest import POLICY
from tests.fakes import FixedPolicy

WIRE = POLICY.replace("action_types:\n", "action_types:\n  wire:\n    risk: high\n    reviewers: [UALICE]\n")


def _services(db, dispatcher) -> Services:
    return Services(db=db, policies=FixedPolicy(load_policy_text(WIRE, "home.yaml")), dispatcher=dispatcher,
                    draw=lambda: 0.25)


def _propose(services, agent, action_type, title, confidence, amount=100) -> str:
    p = Proposal(action_type=action_type, title=title, payload={"amount": amount}, confidence=confidence)
    return intake.submit(services, agent, p)[0].id


def test_the_queue_is_whats_left_for_me_most_urgent_first(db, dispatcher, agent):
    services = _services(db, dispatcher)
    plain = _propose(services, agent, "refund", "plain refund", 0.5)
    due = _propose(services, agent, "refund", "refund due soon", 0.9)
    wire = _propose(services, agent, "wire", "wire", 0.9)
    unsure = _propose(services, agent, "crm", "crm, unsure", 0.3)  # names no reviewers: anyone may decide
    big = _propose(services, agent, "refund", "big refund", 0.5, amount=900)  # needs two approvals
    with db.transaction() as s:
        s.execute(update(Action).where(Action.id == due).values(timer_at=datetime.now(UTC) + timedelta(hours=1)))
    deciding.decide(services, big, reviewer="UALICE", kind="approve")

    mine, total = home_queue.waiting_for(services, "UALICE", NoGroups())
    assert [w.title for w in mine] == ["refund due soon", "wire", "plain refund", "crm, unsure"] and total == 4
    assert mine[0].due_at is not None and mine[0].due_at.tzinfo is not None

    bobs, _ = home_queue.waiting_for(services, "UBOB", NoGroups())
    assert [w.title for w in bobs] == ["refund due soon", "plain refund", "big refund", "crm, unsure"]
    assert (bobs[2].approvals, bobs[2].approvals_required) == (1, 2)

    first, total = home_queue.waiting_for(services, "UBOB", NoGroups(), limit=1)
    assert len(first) == 1 and total == 4
    assert [w.title for w in home_queue.waiting_for(services, "UOUTSIDER", NoGroups())[0]] == ["crm, unsure"]

    deciding.decide(services, plain, reviewer="UBOB", kind="reject", reason_tags=["wrong_action"])
    assert "plain refund" not in [w.title for w in home_queue.waiting_for(services, "UALICE", NoGroups())[0]]
    assert {plain, due, wire, unsure, big} >= {w.action_id for w in mine}
