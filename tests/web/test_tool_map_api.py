"""GET /v1/tools: the policy's tool -> action type mapping, for the types the calling key may propose."""
from __future__ import annotations

from core.agents import create_agent
from tests.conftest import POLICY
from tests.slack.conftest import use_policy

TOOLS = POLICY.replace("  ping:\n", "  ping:\n    tools: [lookup_order]\n").replace(
    "  refund:\n", "  refund:\n    tools: [issue_refund, refund_order]\n")


def test_the_policys_tools_lists_map_tools_to_action_types(api, settings):
    assert api.get("/v1/tools").json()["tools"] == {}  # no tools: lists yet
    use_policy(settings, TOOLS)
    r = api.get("/v1/tools")
    assert r.status_code == 200
    assert r.json()["tools"] == {"issue_refund": "refund", "refund_order": "refund", "lookup_order": "ping"}
    assert r.json()["policy_version"]


def test_a_key_limited_to_some_action_types_sees_only_their_tools(api, settings, runtime):
    use_policy(settings, TOOLS)
    _agent, key = create_agent(runtime.services.db, "lookups-only", ["ping"])
    r = api.get("/v1/tools", headers={"Authorization": f"Bearer {key}"})
    assert r.json()["tools"] == {"lookup_order": "ping"}
    assert api.get("/v1/tools", headers={"Authorization": "Bearer hitl_wrong"}).status_code == 401
