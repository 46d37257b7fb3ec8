import threading

import pytest
from freezegun import freeze_time

from core import intake
from core.agents import authenticate, create_agent, revoke_agent
from core.errors import IdempotencyConflict, InvalidRequest, NotAuthorised
from core.proposal import Proposal
from core.store.tables import Agent, PolicyVersion
from core.vocabulary import Status


def proposal(**kw) -> Proposal:
    base = dict(action_type="refund", title="Refund #42", summary="double charge", payload={"amount": 120},
                confidence=0.7, state={"step": 3, "opaque": [1, "x"]}, run_id="run-1", call_id="call-1")
    base.update(kw)
    return Proposal(**base)


def test_pending_proposal_is_recorded_with_its_route(services, agent, dispatcher):
    view, created = intake.submit(services, agent, proposal())
    assert created and view.status is Status.PENDING and view.decision is None
    assert view.rule == "refund (no rule matched)" and view.policy_version.startswith("test@")
    assert view.state == {"step": 3, "opaque": [1, "x"]} and view.run_id == "run-1"
    assert dispatcher.calls == []  # nothing decided yet


def test_auto_approved_comes_back_decided(services, agent, dispatcher):
    view, _ = intake.submit(services, agent, proposal(action_type="ping", payload={"host": "a"}))
    assert view.status is Status.AUTO_APPROVED
    assert view.decision.go_ahead and view.decision.final_payload == {"host": "a"}
    assert view.decision.reviewers == [] and view.decision.time_to_decision_seconds == 0
    assert dispatcher.calls == [(view.id, "auto_approved")]


def test_blocked_is_decided_and_not_go_ahead(services, agent):
    view, _ = intake.submit(services, agent, proposal(action_type="nuke"))
    assert view.status is Status.BLOCKED and view.decision.go_ahead is False


def test_idempotent_replay_returns_the_same_action(services, agent):
    first, created = intake.submit(services, agent, proposal(), idempotency_key="k-1")
    again, created_again = intake.submit(services, agent, proposal(), idempotency_key="k-1")
    assert created and not created_again and again.id == first.id


def test_idempotency_key_reused_for_other_content_is_refused(services, agent):
    intake.submit(services, agent, proposal(), idempotency_key="k-1")
    with pytest.raises(IdempotencyConflict, match="was used for a different proposal"):
        intake.submit(services, agent, proposal(payload={"amount": 999}), idempotency_key="k-1")


def test_idempotency_keys_are_per_agent(services, agent, db):
    other, _ = create_agent(db, "other")
    a, _ = intake.submit(services, agent, proposal(), idempotency_key="same")
    b, created = intake.submit(services, other, proposal(), idempotency_key="same")
    assert created and a.id != b.id


def test_concurrent_replays_create_exactly_one_action(services, agent, db):
    results, errors = [], []

    def go():
        try:
            results.append(intake.submit(services, agent, proposal(), idempotency_key="race"))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    assert len({v.id for v, _ in results}) == 1
    assert sum(created for _, created in results) == 1


def test_agent_key_limited_to_action_types(services, db):
    limited, _ = create_agent(db, "limited", ["ping"])
    intake.submit(services, limited, proposal(action_type="ping"))
    with pytest.raises(NotAuthorised, match="may not propose action type 'refund'"):
        intake.submit(services, limited, proposal())


def test_deadline_in_the_past_is_refused(services, agent):
    with freeze_time("2026-01-01T12:00:00Z"):
        with pytest.raises(InvalidRequest, match="deadline is in the past"):
            intake.submit(services, agent, proposal(deadline="2026-01-01T11:59:00Z"))
        view, _ = intake.submit(services, agent, proposal(deadline="2026-01-01T14:00:00+01:00"))
        assert view.deadline.isoformat() == "2026-01-01T13:00:00+00:00"


def test_policy_text_is_kept_for_every_version_used(services, agent, db):
    intake.submit(services, agent, proposal())
    intake.submit(services, agent, proposal(title="again"))
    with db.read() as s:
        versions = s.query(PolicyVersion).all()
        assert [v.version for v in versions] == [services.policies.current().version]
        assert "review_mode: block" in versions[0].text


def test_keys_are_stored_hashed_and_can_be_revoked(db):
    ident, key = create_agent(db, "hashy", ["a", "b"])
    with db.read() as s:
        row = s.query(Agent).filter_by(name="hashy").one()
        assert key not in (row.key_hash, row.key_prefix) and len(row.key_hash) == 64
    assert authenticate(db, key) == ident
    assert authenticate(db, key + "x") is None and authenticate(db, "") is None
    revoke_agent(db, "hashy")
    assert authenticate(db, key) is None


def test_duplicate_agent_name_is_a_clear_error(db):
    create_agent(db, "twin")
    with pytest.raises(InvalidRequest, match="exists already"):
        create_agent(db, "twin")
