"""A hostile-input corpus against the real web process over HTTP, on both databases: every case gets
a 4xx with a clear message (or, from Slack, an inline modal error or a 400/401), never a 500, and
changes nothing."""
from __future__ import annotations

import json

import pytest

from bot.slack import ids
from tests.slack_requests import SECRET, block_action, form, sign, view_submission

BASE = {"action_type": "refund", "title": "t", "confidence": 0.5, "payload": {"amount": 1}}


def raw(slack, body: str, **headers):
    return slack.agent.post("/v1/actions", content=body, headers={"Content-Type": "application/json", **headers})


INTAKE = [
    # (name, body as JSON text, the field named in the answer)
    ("NaN in payload", '{"action_type": "refund", "title": "t", "confidence": 0.5, "payload": {"a": NaN}}', "payload"),
    ("Infinity in context", '{"action_type": "refund", "title": "t", "confidence": 0.5, "payload": {}, '
                            '"context": {"a": [Infinity]}}', "context"),
    ("-Infinity in state", '{"action_type": "refund", "title": "t", "confidence": 0.5, "payload": {}, '
                           '"state": -Infinity}', "state"),
    ("1e400 in payload", '{"action_type": "refund", "title": "t", "confidence": 0.5, "payload": {"a": {"b": 1e400}}}',
     "payload"),
    ("NaN confidence", '{"action_type": "refund", "title": "t", "confidence": NaN, "payload": {}}', "confidence"),
    ("boolean confidence", '{"action_type": "refund", "title": "t", "confidence": true, "payload": {}}', "confidence"),
    ("deadline at the end of time", json.dumps({**BASE, "deadline": "9999-12-31T23:59:59-14:00"}), "deadline"),
    ("deadline before the epoch", json.dumps({**BASE, "deadline": "0001-01-01T00:00:00+14:00"}), "deadline"),
    ("callback_url too long", json.dumps({**BASE, "callback_url": "https://agent.example.com/" + "a" * 2100}),
     "callback_url"),
    ("callback_url too long once encoded", json.dumps({**BASE, "callback_url": "https://agent.example.com/" + "é" * 700}),
     "callback_url"),
    ("lone surrogate", '{"action_type": "refund", "title": "t\\ud800", "confidence": 0.5, "payload": {}}', "title"),
    ("payload nested 5,000 deep", '{"action_type": "refund", "title": "t", "confidence": 0.5, "payload": '
                                  + '{"a":' * 5000 + "1" + "}" * 5000 + "}", None),
]


@pytest.mark.parametrize("name,body,field", INTAKE, ids=[c[0] for c in INTAKE])
def test_intake_answers_hostile_bodies_with_a_named_4xx(slack, name, body, field):
    r = raw(slack, body)
    assert 400 <= r.status_code < 500, (name, r.status_code, r.text[:300])
    answer = r.json()
    assert answer["message"], answer
    if field is not None:
        assert any(f["field"].split(".")[0].split("/")[0] == field for f in answer["fields"]), answer
    assert slack.agent.get("/healthz").status_code == 200  # and the connection still works


@pytest.mark.parametrize("path", ["/v1/actions/act_%00", "/v1/actions/act_%00/decision", "/v1/actions/%F0%9F%92%A9",
                                  "/v1/actions/" + "a" * 65])
def test_hostile_action_ids_get_a_4xx(slack, path):
    for method, suffix, body in (("GET", "", None), ("POST", "/cancel", {}), ("POST", "/outcome", {"status": "failed"}),
                                 ("POST", "/execute", {"payload_sha256": "0" * 64})):
        r = slack.agent.request(method, path + suffix if not path.endswith("/decision") else path, json=body)
        assert 400 <= r.status_code < 500, (method, path, r.status_code, r.text[:300])


SLACK_HEADERS = [
    ("no timestamp", lambda body: {k: v for k, v in sign(body).items() if k != "X-Slack-Request-Timestamp"}),
    ("a word for a timestamp", lambda body: {**sign(body), "X-Slack-Request-Timestamp": "soon"}),
    ("a huge timestamp", lambda body: {**sign(body), "X-Slack-Request-Timestamp": "9" * 40}),
    ("no signature", lambda body: {k: v for k, v in sign(body).items() if k != "X-Slack-Signature"}),
    ("a wrong signature", lambda body: sign(body, secret="not-the-secret")),
    ("a stale signature", lambda body: sign(body, timestamp=1_000_000_000)),
]


@pytest.mark.parametrize("name,headers", SLACK_HEADERS, ids=[c[0] for c in SLACK_HEADERS])
def test_unsigned_slack_requests_are_refused_before_anything_is_parsed(slack, name, headers):
    for body in (form(block_action("UALICE", ids.APPROVE, "act_x:0:000000000000")), "payload=notjson",
                 "payload=%ff%fe", "a=b"):
        r = slack.http.post("/slack/events", content=body, headers=headers(body))
        assert r.status_code == 401, (name, body[:40], r.status_code, r.text[:200])


@pytest.mark.parametrize("body", ["payload=notjson", "payload=%ff%fe", "payload=" + "%5B" * 5000, "payload=[]",
                                  "payload=%7B%7D", "nothing=here", ""])
def test_signed_but_malformed_slack_bodies_get_a_400(slack, body):
    r = slack.http.post("/slack/events", content=body.encode("latin-1"), headers=sign(body))
    assert r.status_code in (400, 404) or (r.status_code == 200 and not r.content), (body[:40], r.status_code, r.text)


def test_crafted_modal_input_gets_inline_errors_and_records_nothing(slack):
    a = slack.propose()
    slack.drain()
    slack.post_interaction(block_action("UALICE", ids.MODIFY, slack.bound(a["id"])))
    view = slack.fake.of("views.open")[-1]["view"]

    def field(v, kind="plain_text_input"):
        return {ids.INPUT: {"type": kind, "value": v}}

    good = {"f:amount": field("120", "number_input"), "f:order": field("42"), "f:note": field("x")}
    deep = "[" * 5000 + "]" * 5000
    cases = [
        ("a rating that is a word", {**good, "rating:accuracy": {ids.INPUT: {"type": "static_select",
                                                                            "selected_option": {"value": "lots"}}}}),
        ("NaN", {**good, "f:amount": field("nan", "number_input")}),
        ("JSON 5,000 deep", {**good, ids.JSON_BLOCK: field(deep)}),
        ("JSON 100 deep", {**good, ids.JSON_BLOCK: field('{"amount": 1, "order": "42", "note": ' + "[" * 100
                                                           + "]" * 100 + "}")}),
    ]
    for name, values in cases:
        r = slack.post_interaction(view_submission("UALICE", view, values))
        assert r.status_code == 200 and r.json()["response_action"] == "errors", (name, r.status_code, r.text[:300])
    for metadata in ("not json", '{"a": "act_x"}', json.dumps({"action_id": a["id"], "channel": "C0REVIEW",
                                                                "revision": 0, "seen": "0:zzzz"}), "{" * 3000):
        r = slack.post_interaction(view_submission("UALICE", {**view, "private_metadata": metadata}, good))
        assert r.status_code == 200 and r.json()["response_action"] == "errors", (metadata[:40], r.text)
    got = slack.agent.get(f"/v1/actions/{a['id']}").json()
    assert got["votes"] == [] and got["status"] == "pending"
    # A field the form never showed is ignored, not added.
    r = slack.post_interaction(view_submission("UALICE", view, {**good, "f:evil": field("1")}))
    assert r.status_code == 200 and not r.content
    assert "evil" not in slack.agent.get(f"/v1/actions/{a['id']}").json()["current_payload"]


def test_a_view_submission_signed_with_a_stale_timestamp_is_refused(slack):
    body = form(block_action("UALICE", ids.APPROVE, "act_x:0:000000000000"))
    assert slack.http.post("/slack/events", content=body, headers=sign(body, SECRET, timestamp=1)).status_code == 401
