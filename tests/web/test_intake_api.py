import asyncio
import threading

import pytest

from bot.web import action_routes as actions_route
from core import deciding
from tests.waiting import wait_for

PROPOSAL = {"action_type": "refund", "title": "Refund #7", "summary": "damaged", "payload": {"amount": 30},
            "confidence": 0.6, "state": {"cursor": "abc"}}


def post(api, body=None, **headers):
    return api.post("/v1/actions", json=body or PROPOSAL, headers=headers)


def test_propose_returns_201_with_route(api):
    r = post(api)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "pending" and body["review_mode"] == "review"
    assert body["rule"] == "refund (no rule matched)" and body["decision"] is None
    assert r.headers["Location"] == f"/v1/actions/{body['id']}"


def test_auto_approved_decision_comes_back_at_once(api):
    r = post(api, {**PROPOSAL, "action_type": "ping"})
    assert r.status_code == 201
    assert r.json()["decision"]["status"] == "auto_approved" and r.json()["decision"]["go_ahead"] is True


def test_idempotency_key_replays(api):
    first = post(api, **{"Idempotency-Key": "abc"})
    again = post(api, **{"Idempotency-Key": "abc"})
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    clash = post(api, {**PROPOSAL, "title": "other"}, **{"Idempotency-Key": "abc"})
    assert clash.status_code == 409 and clash.json()["error"] == "idempotency_key_reused"


@pytest.mark.parametrize("auth,status", [(None, 401), ("Bearer nope", 401), ("Basic abc", 401), ("Bearer ", 401)])
def test_missing_or_wrong_key(api, auth, status):
    headers = {"Authorization": auth} if auth else {}
    api.headers.pop("Authorization")
    r = api.post("/v1/actions", json=PROPOSAL, headers=headers)
    assert r.status_code == status and r.json()["error"] == "unauthorized"
    assert r.headers["WWW-Authenticate"] == "Bearer"


def test_key_limited_to_other_action_types_gets_403(api, runtime):
    from core.agents import create_agent

    _, key = create_agent(runtime.services.db, "pinger", ["ping"])
    r = api.post("/v1/actions", json=PROPOSAL, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 403 and "refund" in r.json()["message"]


@pytest.mark.parametrize("change,field", [
    ({"confidence": 1.5}, "confidence"),
    ({"payload": [1, 2]}, "payload"),
    ({"action_type": "has space"}, "action_type"),
    ({"title": ""}, "title"),
    ({"risk": "spicy"}, "risk"),
    ({"deadline": "2026-01-01T00:00:00"}, "deadline"),
    ({"callback_url": "not a url"}, "callback_url"),
    ({"surprise": 1}, "surprise"),
])
def test_bad_fields_are_named(api, change, field):
    r = post(api, {**PROPOSAL, **change})
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "invalid_request"
    assert [f["field"] for f in r.json()["fields"]] == [field]


def test_missing_field_is_named(api):
    body = dict(PROPOSAL)
    del body["confidence"]
    r = post(api, body)
    assert r.status_code == 422 and r.json()["fields"][0] == {"field": "confidence", "message": "Field required"}


def test_malformed_json_is_400(api):
    r = api.post("/v1/actions", content=b'{"action_type": ', headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_json"


def test_oversized_body_is_413_and_records_nothing(api, runtime):
    big = {**PROPOSAL, "payload": {"blob": "x" * 70_000}}
    r = post(api, big)
    assert r.status_code == 413 and r.json()["error"] == "payload_too_large"
    from core.queries import pending_ids

    assert pending_ids(runtime.services) == []


def test_get_and_404(api):
    created = post(api).json()
    assert api.get(f"/v1/actions/{created['id']}").json()["state"] == {"cursor": "abc"}
    r = api.get("/v1/actions/act_unknown")
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_outcome_and_cancel_conflicts(api, runtime):
    a = post(api).json()
    r = api.post(f"/v1/actions/{a['id']}/outcome", json={"status": "executed"})
    assert r.status_code == 409 and r.json()["error"] == "illegal_transition"
    deciding.decide(runtime.services, a["id"], reviewer="UALICE", kind="approve")
    r = api.post(f"/v1/actions/{a['id']}/cancel", json={"reason": "late"})
    assert r.status_code == 409 and r.json()["message"] == "already approved by UALICE"
    r = api.post(f"/v1/actions/{a['id']}/outcome", json={"status": "executed", "result": {"id": 1}})
    assert r.status_code == 200 and r.json()["status"] == "executed"


def test_cancel_without_body(api):
    a = post(api).json()
    r = api.post(f"/v1/actions/{a['id']}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"


def test_long_poll_times_out_with_no_decision(api):
    a = post(api).json()
    r = api.get(f"/v1/actions/{a['id']}/decision", params={"wait": 0.3})
    assert r.status_code == 200 and r.json()["decision"] is None
    assert api.get(f"/v1/actions/{a['id']}/decision", params={"wait": 61}).status_code == 422


def test_long_poll_is_woken_by_the_notification_not_by_polling(api, runtime, monkeypatch):
    waiter = api.app.state.waiter
    waiter.recheck = 3600  # no database recheck within the wait: only the notification can end it early
    a = post(api).json()
    wait_for(waiter.subscribed.is_set, 60, "the waiter to subscribe to notifications")
    reads, timed_out = [], []
    real_read, real_wait_for = actions_route.get_action, asyncio.wait_for

    def counting_read(*args):
        view = real_read(*args)
        reads.append(view.decision)
        return view

    async def recording_wait_for(awaitable, timeout):
        try:
            return await real_wait_for(awaitable, timeout)
        except TimeoutError:
            timed_out.append(timeout)
            raise

    monkeypatch.setattr(actions_route, "get_action", counting_read)
    monkeypatch.setattr(actions_route.asyncio, "wait_for", recording_wait_for)

    def decide_while_it_waits():  # after the long-poll's first read found nothing: it is waiting now
        wait_for(lambda: reads, 60, "the long-poll's first read")
        deciding.decide(runtime.services, a["id"], reviewer="UALICE", kind="approve")

    decider = threading.Thread(target=decide_while_it_waits)
    decider.start()
    r = api.get(f"/v1/actions/{a['id']}/decision", params={"wait": 60})
    decider.join()
    assert r.json()["decision"]["status"] == "approved"
    assert reads[0] is None and len(reads) == 2  # read, woken, read again
    assert timed_out == [], "the long-poll ran to its timeout: the Redis notification did not wake it"


def test_healthz(api, runtime):
    r = api.get("/healthz")
    assert r.status_code == 200 and r.json() == {"database": "ok", "redis": "ok"}


def test_healthz_reports_redis_down(api, runtime, monkeypatch):
    import redis

    def down():
        raise redis.ConnectionError("gone")

    monkeypatch.setattr(runtime.redis, "ping", down)
    r = api.get("/healthz")
    assert r.status_code == 503 and r.json() == {"database": "ok", "redis": "error: ConnectionError"}


def test_proposal_accepted_while_redis_is_down(api, runtime, monkeypatch):
    import redis

    def down(*a, **k):
        raise redis.ConnectionError("gone")

    monkeypatch.setattr(runtime.redis, "publish", down)
    r = post(api, {**PROPOSAL, "action_type": "ping"})
    assert r.status_code == 201 and r.json()["status"] == "auto_approved"


def test_no_stack_trace_on_a_bug(api, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("bot.web.action_routes.get_action", boom)
    r = api.get("/v1/actions/act_x")
    assert r.status_code == 500 and r.json() == {"error": "internal", "message": "internal error; it has been logged",
                                                 "fields": []}
    assert "secret" not in r.text


@pytest.mark.parametrize("change,field,fragment", [
    ({"call_id": "a\u0000b"}, "call_id", "should match pattern"),
    ({"title": "bad \ud800 title"}, "title", "unicode string"),
    ({"payload": {"note": "x\udfff"}}, "payload", "note: contains an unpaired surrogate"),
    ({"state": {"k\ud800": 1}}, "state", "a key contains an unpaired surrogate"),
])
def test_text_no_database_can_store_is_a_named_422(api, change, field, fragment):
    import json

    body = json.dumps({**PROPOSAL, **change})  # escapes survive json.dumps as \\u sequences
    r = api.post("/v1/actions", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["fields"][0]["field"] == field and fragment in r.json()["fields"][0]["message"]


def test_an_integer_past_64_bits_is_kept(api):
    """JSON has no integer limit, and neither has a json column (schemathesis found the one that had)."""
    big = 2**70 + 1
    r = post(api, {**PROPOSAL, "payload": {"n": big, "list": [-big]}})
    assert r.status_code == 201, r.text
    assert api.get(f"/v1/actions/{r.json()['id']}").json()["payload"] == {"n": big, "list": [-big]}


def test_nul_inside_json_payload_is_kept(api):
    r = post(api, {**PROPOSAL, "payload": {"raw": "a\u0000b"}})
    assert r.status_code == 201
    assert api.get(f"/v1/actions/{r.json()['id']}").json()["payload"] == {"raw": "a\u0000b"}


def test_examples_endpoint_returns_corrections_and_names_bad_input(api):
    a = post(api).json()
    deciding.decide(api.app.state.runtime.services, a["id"], reviewer="UALICE", kind="modify",
                    edited_payload={"amount": 25}, comment="less")
    r = api.get("/v1/examples", params={"action_type": "refund", "limit": 3})
    assert r.status_code == 200, r.text
    (ex,) = r.json()["examples"]
    assert ex["outcome"] == "modified" and ex["corrected_payload"] == {"amount": 25} and ex["comment"] == "less"
    bad = api.get("/v1/examples", params={"action_type": "refund", "limit": 500})
    assert bad.status_code == 422 and "limit" in bad.text
    assert api.get("/v1/examples").status_code == 422  # action_type is required
    similar = api.post("/v1/examples/similar", json={"action_type": "refund", "similar_to": {"amount": 30}})
    assert similar.status_code == 200 and similar.json()["examples"][0]["pattern"] == "fields:amount"
    refused = api.post("/v1/examples/similar", json={"action_type": "refund", "similar_to": [1, 2]})
    assert refused.status_code == 422 and "similar_to" in refused.text
    assert api.get("/v1/examples", params={"action_type": "refund"}, headers={"Authorization": "Bearer nope"}
                   ).status_code == 401


def test_stats_endpoint_agrees_with_hitl_stats_for_the_agent(api):
    from core import metrics, stats_text

    services = api.app.state.runtime.services
    ids = [post(api).json()["id"] for _ in range(4)]
    deciding.decide(services, ids[0], reviewer="UALICE", kind="approve")
    deciding.decide(services, ids[1], reviewer="UBOB", kind="modify", edited_payload={"amount": 20})
    deciding.decide(services, ids[2], reviewer="UBOB", kind="reject", reason_tags=["edge_case"])
    r = api.get("/v1/stats", params={"days": 7})
    assert r.status_code == 200, r.text
    body = r.json()
    c = body["current"]
    assert (c["proposed"], c["reviewed"], c["modified"], c["rejected"]) == (4, 3, 1, 1)
    assert c["override_rate"] == 1 / 3 and c["rejection_rate"] == 1 / 3 and body["pending"] == 1
    assert len(body["trend"]) == 8 and body["trend"][-1]["reviewed"] == 3
    cli_text = stats_text.lines(metrics.stats(services, "api-agent", 7))  # what `hitl stats api-agent` prints
    assert body["text"][1:] == cli_text[1:]  # the same figures; only the scope's label differs
    assert api.get("/v1/stats", params={"by": "month"}).status_code == 422
    assert api.get("/v1/stats", params={"action_type": "refund"}).json()["current"]["reviewed"] == 3
    assert api.get("/v1/stats", params={"action_type": "ping"}).json()["current"]["proposed"] == 0
