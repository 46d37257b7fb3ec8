"""The intake trusts a checked agent key for HITL_AGENT_KEY_CACHE_SECONDS, then asks the database
again: a revoked key stops within that time, and a wrong key is never remembered."""
from __future__ import annotations

from core.agents import create_agent, revoke_agent

BODY = {"action_type": "ping", "title": "t", "confidence": 0.9, "payload": {}}


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_revoked_key_stops_once_the_cache_time_has_passed(api, runtime):
    _agent, key = create_agent(runtime.services.db, "cached")
    headers = {"Authorization": f"Bearer {key}"}
    cache = api.app.state.agent_keys
    cache.clock = clock = Clock()
    assert api.post("/v1/actions", headers=headers, json=BODY).status_code == 201
    revoke_agent(runtime.services.db, "cached")
    clock.now += cache.ttl - 0.1
    assert api.post("/v1/actions", headers=headers, json=BODY).status_code == 201  # within the cache time
    clock.now += 0.2
    refused = api.post("/v1/actions", headers=headers, json=BODY)
    assert refused.status_code == 401 and refused.json()["message"] == "unknown or revoked agent key"


def test_with_no_cache_time_a_revoked_key_stops_at_once(api, runtime):
    _agent, key = create_agent(runtime.services.db, "uncached")
    headers = {"Authorization": f"Bearer {key}"}
    api.app.state.agent_keys.ttl = 0
    assert api.post("/v1/actions", headers=headers, json=BODY).status_code == 201
    revoke_agent(runtime.services.db, "uncached")
    assert api.post("/v1/actions", headers=headers, json=BODY).status_code == 401


def test_only_valid_keys_are_remembered_and_only_by_their_hash(api, runtime):
    cache = api.app.state.agent_keys
    assert api.post("/v1/actions", headers={"Authorization": "Bearer hitl_wrong"}, json=BODY).status_code == 401
    assert api.post("/v1/actions", json=BODY).status_code == 201  # the fixture's own key
    assert len(cache._entries) == 1
    (digest,) = cache._entries
    assert api.headers["Authorization"].split()[1] not in digest and len(digest) == 64
