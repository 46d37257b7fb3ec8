"""POST /v1/actions/{id}/execute over HTTP: one claim runs the approved payload; everything else
gets 409 naming why, and a malformed hash 422."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from core import deciding
from core.store.tables import Action
from hitl_client import payload_sha256
from tests.conftest import POLICY

TTL_POLICY = POLICY.replace("    review_mode: review\n", "    review_mode: review\n    approval_ttl: 15m\n", 1)


@pytest.fixture
def settings(settings):
    settings.policy_file.write_text(TTL_POLICY)
    return settings


def propose(api, payload=None) -> dict:
    r = api.post("/v1/actions", json={"action_type": "refund", "title": "Refund 42", "confidence": 0.5,
                                      "payload": payload or {"amount": 120, "order": "42"}})
    assert r.status_code == 201, r.text
    return r.json()


def execute(api, action_id: str, sha: str):
    return api.post(f"/v1/actions/{action_id}/execute", json={"payload_sha256": sha})


def test_one_claim_gets_the_approved_payload_and_every_other_is_refused_by_name(api, runtime):
    a = propose(api)
    r = execute(api, a["id"], payload_sha256(a["payload"]))
    assert r.status_code == 409 and r.json()["error"] == "not_decided"

    deciding.decide(runtime.services, a["id"], reviewer="UALICE", kind="modify",
                    edited_payload={"amount": 100, "order": "42"})
    decision = api.get(f"/v1/actions/{a['id']}/decision").json()["decision"]
    assert decision["revision"] == 1 and decision["approval_expires_at"] is not None
    assert decision["payload_sha256"] == payload_sha256({"amount": 100, "order": "42"})

    r = execute(api, a["id"], payload_sha256(a["payload"]))  # what the agent proposed, not what was approved
    assert r.status_code == 409 and r.json()["error"] == "payload_mismatch", r.text
    r = execute(api, a["id"], "ABC")
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "payload_sha256"

    r = execute(api, a["id"], decision["payload_sha256"])
    assert r.status_code == 200, r.text
    assert r.json()["final_payload"] == {"amount": 100, "order": "42"} and r.json()["revision"] == 1
    again = execute(api, a["id"], decision["payload_sha256"])
    assert again.status_code == 409 and again.json()["error"] == "already_claimed"
    assert "claimed already" in again.json()["message"]
    assert api.get(f"/v1/actions/{a['id']}").json()["decision"]["execution_claimed_at"] is not None


def test_an_approval_past_its_ttl_is_refused_and_expired(api, runtime):
    a = propose(api)
    deciding.decide(runtime.services, a["id"], reviewer="UALICE", kind="approve")
    sha = api.get(f"/v1/actions/{a['id']}").json()["decision"]["payload_sha256"]
    # Fifteen minutes pass without a claim (the timer has not run yet).
    with runtime.services.db.transaction() as s:
        s.execute(update(Action).where(Action.id == a["id"])
                  .values(approval_expires_at=runtime.services.clock() - timedelta(seconds=1)))
    r = execute(api, a["id"], sha)
    assert r.status_code == 409 and r.json()["error"] == "approval_expired", r.text
    view = api.get(f"/v1/actions/{a['id']}").json()
    assert view["status"] == "expired" and view["decision"]["status"] == "approved"
    assert view["decision"]["go_ahead"] is False
    r = api.post(f"/v1/actions/{a['id']}/outcome", json={"status": "executed"})
    assert r.status_code == 409 and r.json()["error"] == "approval_expired"


def test_rejected_and_foreign_actions_cannot_be_claimed(api, runtime):
    a = propose(api)
    deciding.decide(runtime.services, a["id"], reviewer="UALICE", kind="reject", reason_tags=["wrong_action"])
    r = execute(api, a["id"], payload_sha256(a["payload"]))
    assert r.status_code == 409 and r.json()["error"] == "not_approved"
    r = execute(api, "act_nothing_here", payload_sha256({}))
    assert r.status_code == 404
