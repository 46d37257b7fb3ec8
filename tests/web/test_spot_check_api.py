"""Spot checks over HTTP with an operator key: it acts as one Slack user, who must be a reviewer of
the type; an agent's key is refused here, and an operator's key at the intake."""
from __future__ import annotations

import pytest

from core import operators
from tests.conftest import POLICY

SPOT_POLICY = POLICY + """  audited:
    risk: low
    review_mode: auto
    audit_rate: 1
    reviewers: [UALICE]
    mask_fields: [/card]
"""


@pytest.fixture
def settings(settings):
    settings.policy_file.write_text(SPOT_POLICY)
    return settings


def operator_headers(runtime, name, reviewer) -> dict:
    _op, key = operators.create(runtime.services.db, name, reviewer)
    return {"Authorization": f"Bearer {key}"}


def test_an_operator_lists_and_decides_spot_checks_as_their_slack_user(api, runtime):
    r = api.post("/v1/actions", json={"action_type": "audited", "title": "t", "confidence": 0.9,
                                      "payload": {"card": "4111", "amount": 3}})
    assert r.status_code == 201 and r.json()["status"] == "auto_approved"
    action_id = r.json()["id"]
    alice = operator_headers(runtime, "alice-laptop", "ualice")  # ids are normalised
    assert operator_headers(runtime, "mallory", "UMALLORY")  # a valid key, but not a reviewer of `audited`

    assert api.get("/v1/spot-checks").status_code == 401  # the agent's key is not an operator's
    listed = api.get("/v1/spot-checks", headers=alice, params={"action_type": "audited"})
    assert listed.status_code == 200
    (item,) = listed.json()
    assert item["action_id"] == action_id and item["payload"] == {"card": "••••••", "amount": 3}
    assert item["probability"] == 1.0

    mallory = {"Authorization": f"Bearer {operators.create(runtime.services.db, 'm2', 'UMALLORY')[1]}"}
    refused = api.post(f"/v1/spot-checks/{action_id}/verdict", headers=mallory, json={"verdict": "looks_right"})
    assert refused.status_code == 403 and "not a reviewer" in refused.json()["message"]

    no_tag = api.post(f"/v1/spot-checks/{action_id}/verdict", headers=alice, json={"verdict": "flagged"})
    assert no_tag.status_code == 422 and "reason tag" in no_tag.json()["message"]
    ok = api.post(f"/v1/spot-checks/{action_id}/verdict", headers=alice,
                  json={"verdict": "flagged", "reason_tags": ["wrong_action"]})
    assert ok.status_code == 200 and ok.json()["auditor"] == "UALICE" and ok.json()["verdict"] == "flagged"
    again = api.post(f"/v1/spot-checks/{action_id}/verdict", headers=alice, json={"verdict": "looks_right"})
    assert again.status_code == 409
    assert api.get("/v1/spot-checks", headers=alice).json() == []


def test_keys_stay_on_their_side_and_a_revoked_key_stops_at_once(api, runtime):
    _op, key = operators.create(runtime.services.db, "ops", "UALICE")
    as_agent = api.post("/v1/actions", headers={"Authorization": f"Bearer {key}"},
                        json={"action_type": "ping", "title": "t", "confidence": 0.9, "payload": {}})
    assert as_agent.status_code == 401
    headers = {"Authorization": f"Bearer {key}"}
    assert api.get("/v1/spot-checks", headers=headers).status_code == 200
    operators.revoke(runtime.services.db, "ops")
    assert api.get("/v1/spot-checks", headers=headers).status_code == 401
    missing = api.post("/v1/spot-checks/act_nope/verdict", headers=operator_headers(runtime, "x", "UALICE"),
                       json={"verdict": "looks_right"})
    assert missing.status_code == 404
