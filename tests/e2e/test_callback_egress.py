"""Callbacks go to public addresses only (SSRF): intake refuses a forbidden address in any spelling,
a name that resolves to one is refused at send time without retries, the worker connects to the
address it checked, and redirects are not followed."""
from __future__ import annotations

import socket

import pytest

import workers.context
from core import deciding, deliveries, intake
from core.agents import create_agent
from core.egress import EgressPolicy
from core.proposal import Proposal
from tests.e2e.test_callbacks import Receiver
from workers.callback_jobs import deliver_callback

FORBIDDEN = [
    "http://127.0.0.1/hook", "http://localhost:8000/hook", "http://app.localhost/hook", "http://2130706433/",
    "http://0x7f.1/", "http://127.1/", "http://0177.0.0.1/", "http://[::ffff:127.0.0.1]/", "http://[::1]:6379/",
    "http://10.0.0.1/", "http://192.168.1.1/", "http://172.16.0.5/", "http://169.254.169.254/latest/meta-data",
    "http://[fe80::1]/", "http://0.0.0.0/", "http://224.0.0.1/", "http://100.64.0.1/", "http://[64:ff9b::7f00:1]/",
    "http://[2002:7f00:1::1]/", "http://[fd00::1]/",
]


@pytest.mark.parametrize("url", FORBIDDEN)
def test_intake_refuses_a_forbidden_address_in_any_spelling(api, url):
    r = api.post("/v1/actions", json={"action_type": "refund", "title": "t", "confidence": 0.5, "payload": {},
                                      "callback_url": url})
    assert r.status_code == 422, (url, r.text)
    (problem,) = r.json()["fields"]
    assert problem["field"] == "callback_url" and "public addresses only" in problem["message"], problem


def test_intake_refuses_credentials_and_accepts_public_names(api):
    body = {"action_type": "refund", "title": "t", "confidence": 0.5, "payload": {}}
    r = api.post("/v1/actions", json={**body, "callback_url": "http://user:pw@agent.example.com/hook"})
    assert r.status_code == 422 and "credentials" in r.text
    assert api.post("/v1/actions", json={**body, "callback_url": "https://agent.example.com/hook"}).status_code == 201
    assert api.post("/v1/actions", json={**body, "callback_url": "https://8.8.8.8/hook"}).status_code == 201


def test_an_operator_can_allow_an_internal_network_or_host():
    policy = EgressPolicy.from_lists(["10.20.0.0/16"], ["agents.internal"])
    assert policy.url_problem("http://10.20.3.4/hook") is None
    assert "private" in (policy.url_problem("http://10.21.0.1/hook") or "")
    assert policy.url_problem("http://agents.internal/hook") is None
    with pytest.raises(ValueError, match="'10.0.0.0/33' is not a network"):
        EgressPolicy.from_lists(["10.0.0.0/33"], [])


@pytest.fixture
def keyed(runtime):
    workers.context.use(runtime)
    agent, _key = create_agent(runtime.services.db, "hooked")
    yield runtime, agent
    workers.context.use(None)


def resolving(monkeypatch, name: str, address: str):
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host == name:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


def test_a_name_that_resolves_to_a_forbidden_address_is_refused_once_not_retried(keyed, monkeypatch):
    runtime, agent = keyed
    receiver = Receiver()
    try:
        port = receiver.server.server_address[1]
        resolving(monkeypatch, "agent.example.com", "127.0.0.1")  # a DNS answer pointing inside
        p = Proposal(action_type="ping", title="t", payload={}, confidence=0.5,
                     callback_url=f"http://agent.example.com:{port}/hook")
        action = intake.submit(runtime.services, agent, p)[0]  # a public-looking name: accepted
        assert deliver_callback(action.id) == "dead"  # one attempt, then dead-lettered: retrying cannot help
        (dead,) = deliveries.failed(runtime.services)
        assert dead.attempts == 1
        assert dead.last_error.startswith("refused: agent.example.com resolves to 127.0.0.1 is a loopback address")
        assert receiver.received == []
    finally:
        receiver.close()


def test_the_worker_connects_to_the_address_it_checked_and_follows_no_redirect(keyed, monkeypatch):
    runtime, agent = keyed
    runtime.services.egress = EgressPolicy.from_lists(["127.0.0.0/8"], [])  # the receiver is on loopback
    receiver, elsewhere = Receiver(), Receiver()
    try:
        port = receiver.server.server_address[1]
        resolving(monkeypatch, "agent.example.com", "127.0.0.1")
        p = Proposal(action_type="refund", title="t", payload={"amount": 1}, confidence=0.5,
                     callback_url=f"http://agent.example.com:{port}/hook")
        action = intake.submit(runtime.services, agent, p)[0]
        deciding.decide(runtime.services, action.id, reviewer="UALICE", kind="approve")
        assert deliver_callback(action.id) == "delivered"
        ((headers, _body),) = receiver.received
        assert headers["Host"] == f"agent.example.com:{port}"  # the name travels; the checked address is dialled

        receiver.redirect = elsewhere.url  # a 307 to somewhere else is a failure, not a hop
        other = intake.submit(runtime.services, agent, Proposal(action_type="ping", title="t", payload={},
                                                                 confidence=0.5, callback_url=receiver.url))[0]
        assert deliver_callback(other.id) == "pending"
        assert elsewhere.received == []
    finally:
        receiver.close()
        elsewhere.close()
