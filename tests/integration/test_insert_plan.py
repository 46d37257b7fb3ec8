"""A new proposal's one-statement write (PostgreSQL) stores exactly what the statement-by-statement
write does: every column of the action, its outbox rows, its rollup tallies and its audit events in
order; and a payload PostgreSQL's JSON operators cannot take apart is still stored."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from core import insert_plan, intake
from core.proposal import Proposal
from core.store.learning_tables import Rollup
from core.store.tables import Action, AuditEvent, OutboxRow

PROPOSALS = [
    Proposal(action_type="refund", title="Refund ü", payload={"zeta": 1, "alpha": {"b": [1, 2.5], "a": None}},
             confidence=0.6, context={"why": "x"}, state={"turn": 1}, run_id="r1"),
    Proposal(action_type="ping", title="p", payload={}, confidence=0.99),
    Proposal(action_type="crm", title="c", payload={"k": "v"}, confidence=0.1, agent_version="v2"),
]


def _stored(services, action_id: str) -> dict:
    with services.db.read() as s:
        action = s.get(Action, action_id)
        row = {c.key: getattr(action, c.key) for c in Action.__table__.columns if c.key not in ("id", "created_at")}
        row["outbox"] = [(o.kind, o.ref) for o in s.scalars(select(OutboxRow).where(OutboxRow.action_id == action_id)
                                                             .order_by(OutboxRow.id))]
        row["events"] = [(e.kind, e.data) for e in s.scalars(select(AuditEvent).where(AuditEvent.action_id == action_id)
                                                              .order_by(AuditEvent.id))]
    for volatile in ("request_hash", "idempotency_key", "decided_at", "timer_at", "approval_expires_at"):
        row.pop(volatile)
    return row


def _rollup_proposed(services) -> int:
    with services.db.read() as s:
        return sum(s.scalars(select(Rollup.proposed).where(Rollup.grain == "day")))


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_one_statement_and_statement_by_statement_store_the_same(services, agent, monkeypatch):
    one = [intake.submit(services, agent, p)[0].id for p in PROPOSALS]
    with monkeypatch.context() as m:  # every write takes the fallback
        m.setattr(insert_plan, "persist", lambda services, plan: (insert_plan._statement_by_statement(services, plan),
                                                                  insert_plan._dispatch(services, plan)))
        by_statement = [intake.submit(services, agent, p)[0].id for p in PROPOSALS]
    for a, b in zip(one, by_statement, strict=True):
        left, right = _stored(services, a), _stored(services, b)
        assert left == right
        assert [k for k, _ in left["events"]][:2] == ["created", "routed"]
    assert _stored(services, one[0])["payload"] == PROPOSALS[0].payload
    assert list(_stored(services, one[0])["payload"]) == ["zeta", "alpha"]  # key order as sent
    assert _rollup_proposed(services) == 6


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_nul_escape_takes_the_statement_by_statement_way(services, agent, monkeypatch):
    taken = []
    fallback = insert_plan._statement_by_statement
    monkeypatch.setattr(insert_plan, "_statement_by_statement", lambda *a: (taken.append(1), fallback(*a)))
    view, created = intake.submit(services, agent, Proposal(action_type="refund", title="t", confidence=0.5,
                                                            payload={"raw": "a\u0000b"}))
    assert created and taken == [1]
    assert _stored(services, view.id)["payload"] == {"raw": "a\u0000b"}
    intake.submit(services, agent, Proposal(action_type="refund", title="t", confidence=0.5, payload={"raw": "ab"}))
    assert taken == [1]  # an ordinary payload goes in one statement
