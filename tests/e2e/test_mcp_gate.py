"""hitl-mcp end to end, offline: an MCP client (the official SDK's) calls tools through the gate
process, which proposes each call to a live hitl-gate and forwards it to a real upstream MCP
server (over stdio, and over streamable HTTP) only on a go-ahead; reviewers answer with `hitl decide`."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

from core.store.tables import Action
from tests.conftest import free_port
from tests.e2e.test_agent_flow import cli, decide_later
from tests.own_thread import run_async
from tests.waiting import wait_for

UPSTREAM = str(Path(__file__).resolve().parents[2] / "examples" / "mcp_shop_server.py")
MAP = ["--map", "issue_refund=refund", "--map", "lookup_order=ping"]


def gate(live, log: Path, *options: str, url: str | None = None) -> Client:
    """An MCP client connected to `hitl-mcp` (as the agent would start it), in front of the test upstream."""
    upstream = ["--url", url] if url else ["--", sys.executable, UPSTREAM, str(log)]
    env = {**os.environ, "HITL_URL": live.url, "HITL_API_KEY": live.key}
    command = ["-m", "hitl_client.mcp_gate.command_line", *MAP, *options, *upstream]
    return Client(StdioServerParameters(command=sys.executable, args=command, env=env), read_timeout_seconds=60)


def ran(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


class Progress:
    """Collects a call's progress notifications; the first names the proposal the gate made."""

    def __init__(self):
        self.messages: list[str] = []

    async def __call__(self, progress, total, message):
        self.messages.append(message or "")

    def action_id(self) -> str | None:
        found = [m for m in (re.search(r"act_[0-9a-f]+", msg) for msg in self.messages) if m]
        return found[0].group(0) if found else None


async def call_while_a_reviewer_answers(live, settings, client: Client, arguments: dict, *decision: str,
                                        tool: str = "issue_refund"):
    progress = Progress()
    answered = {}

    async def answer():
        await anyio.to_thread.run_sync(lambda: wait_for(progress.action_id, 60, "the gate to report its proposal"))
        t = decide_later(live, settings, progress.action_id(), *decision)
        await anyio.to_thread.run_sync(t.join)
        answered["id"] = progress.action_id()

    async with anyio.create_task_group() as tg:
        tg.start_soon(answer)
        result = await client.call_tool(tool, arguments, progress_callback=progress)
    return result, answered["id"]


def status_of(live, action_id: str) -> str:
    with live.runtime.services.db.read() as s:
        return s.get(Action, action_id).status


def test_the_gate_lists_the_upstreams_tools_unchanged(live, tmp_path):
    async def main():
        async with Client(StdioServerParameters(command=sys.executable, args=[UPSTREAM, str(tmp_path / "log")])) as up:
            direct = (await up.list_tools()).tools
        async with gate(live, tmp_path / "log") as client:
            through = (await client.list_tools()).tools
        assert [t.model_dump() for t in through] == [t.model_dump() for t in direct]
        assert {t.name for t in through} == {"issue_refund", "lookup_order"}

    run_async(main)


def test_an_edited_call_runs_upstream_with_the_reviewers_arguments_once(live, settings, tmp_path):
    log = tmp_path / "calls.jsonl"

    async def main():
        async with gate(live, log) as client:
            return await call_while_a_reviewer_answers(live, settings, client, {"order": "42", "amount": 120},
                                                       "modify", "--reviewer", "UALICE", "--set", "amount=100")

    result, action_id = run_async(main)
    assert not result.is_error and result.structured_content == {"result": "refunded 100 for order 42"}
    assert ran(log) == [{"tool": "issue_refund", "arguments": {"order": "42", "amount": 100}}]
    # The upstream's answer is the recorded outcome, sent just after the agent has it.
    wait_for(lambda: status_of(live, action_id) == "executed", 30, "the outcome's record")


def test_a_rejection_is_a_tool_error_with_the_reasons_and_nothing_runs(live, settings, tmp_path):
    log = tmp_path / "calls.jsonl"

    async def main():
        async with gate(live, log) as client:
            return await call_while_a_reviewer_answers(
                live, settings, client, {"order": "42", "amount": 120}, "reject", "--reviewer", "UBOB",
                "--tag", "policy_violation", "--comment", "the order was already refunded")

    result, _ = run_async(main)
    text = result.content[0].text
    assert result.is_error and "REJECTED" in text and "policy_violation" in text
    assert "the order was already refunded" in text and "Do not retry" in text
    assert ran(log) == []


def test_an_auto_approved_call_passes_straight_through_and_its_result_is_the_outcome(live, tmp_path):
    log = tmp_path / "calls.jsonl"

    async def main():
        async with gate(live, log) as client:
            return await client.call_tool("lookup_order", {"order": "7"})

    result = run_async(main)
    assert not result.is_error and json.loads(result.content[0].text) == {"order": "7", "total": 120}
    assert ran(log) == [{"tool": "lookup_order", "arguments": {"order": "7"}}]
    with live.runtime.services.db.read() as s:
        action_id = s.query(Action.id).filter_by(action_type="ping").scalar()
    wait_for(lambda: status_of(live, action_id) == "executed", 30, "the outcome's record")
    with live.runtime.services.db.read() as s:
        action = s.get(Action, action_id)
        assert action.payload == {"order": "7"} and action.outcome_result == {"order": "7", "total": 120}


def test_nobody_answering_in_time_withdraws_the_proposal(live, tmp_path):
    log = tmp_path / "calls.jsonl"

    async def main():
        async with gate(live, log, "--timeout", "1", "--progress-every", "0.5") as client:
            return await client.call_tool("issue_refund", {"order": "42", "amount": 120})

    result = run_async(main)
    assert result.is_error and "No reviewer decided within 1 s" in result.content[0].text
    assert ran(log) == []
    with live.runtime.services.db.read() as s:
        assert s.query(Action).filter_by(action_type="refund").one().status == "cancelled"


def test_a_cancelled_call_cancels_the_proposal_and_a_later_approval_runs_nothing(live, settings, tmp_path):
    log = tmp_path / "calls.jsonl"
    progress = Progress()

    async def main():
        async with gate(live, log, "--progress-every", "0.5") as client:
            with anyio.move_on_after(30) as scope:
                async with anyio.create_task_group() as tg:
                    async def cancel_when_proposed():
                        await anyio.to_thread.run_sync(lambda: wait_for(progress.action_id, 60, "the proposal"))
                        tg.cancel_scope.cancel()

                    tg.start_soon(cancel_when_proposed)
                    await client.call_tool("issue_refund", {"order": "42", "amount": 120}, progress_callback=progress)
            assert not scope.cancelled_caught  # the task group's own cancel ended the call, not the 30 s guard
            await anyio.to_thread.run_sync(lambda: wait_for(lambda: status_of(live, progress.action_id()) == "cancelled",
                                                            30, "the gate to withdraw the cancelled call"))

    run_async(main)
    late = cli(settings, "decide", progress.action_id(), "approve", "--reviewer", "UALICE")
    assert late.returncode != 0 and ran(log) == []


@contextmanager
def serving_http(port: int, *command: str, env: dict | None = None) -> Iterator[str]:
    """`command` in its own process, once it listens on `port`; yields its MCP URL."""
    served = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: _listening(port), 60, f"{command[-1]} to listen on {port}")
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        served.terminate()
        served.wait(10)


def test_over_streamable_http_an_approved_call_runs_upstream(live, settings, tmp_path):
    log, port = tmp_path / "calls.jsonl", free_port()
    with serving_http(port, sys.executable, UPSTREAM, str(log), "--http", str(port)) as url:
        async def main():
            async with gate(live, log, url=url) as client:
                return await call_while_a_reviewer_answers(live, settings, client, {"order": "9", "amount": 30},
                                                           "approve", "--reviewer", "UCAROL")

        result, _ = run_async(main)
    assert not result.is_error and result.structured_content == {"result": "refunded 30 for order 9"}
    assert ran(log) == [{"tool": "issue_refund", "arguments": {"order": "9", "amount": 30}}]


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_its_own_tools_ask_explicitly_and_return_the_agents_corrected_examples(live, settings, tmp_path):
    asked = {"action_type": "refund", "title": "Refund order 77", "payload": {"order": "77", "amount": 300},
             "confidence": 0.6, "summary": "the customer asked twice"}

    async def main():
        async with gate(live, tmp_path / "log", "--offer-tools") as client:
            listed = [t.name for t in (await client.list_tools()).tools]
            edited, _ = await call_while_a_reviewer_answers(
                live, settings, client, asked, "modify", "--reviewer", "UALICE", "--set", "amount=90",
                tool="request_approval")
            refused, _ = await call_while_a_reviewer_answers(
                live, settings, client, {**asked, "title": "Refund order 78"}, "reject", "--reviewer", "UBOB",
                "--tag", "policy_violation", "--comment", "over the limit", tool="request_approval")
            examples = await client.call_tool("get_examples", {"action_type": "refund"})
            return listed, edited, refused, examples

    listed, edited, refused, examples = run_async(main)
    assert listed[:2] == ["request_approval", "get_examples"] and "issue_refund" in listed
    assert edited.structured_content["go_ahead"] and edited.structured_content["status"] == "modified"
    assert edited.structured_content["final_payload"] == {"order": "77", "amount": 90}  # claimed: this runs, once
    assert "Approved: do exactly this, once" in edited.content[0].text
    assert not refused.structured_content["go_ahead"] and refused.structured_content["final_payload"] is None
    assert refused.structured_content["reason_tags"] == ["policy_violation"] and "over the limit" in refused.content[0].text
    text = examples.content[0].text
    assert "Refund order 77" in text and "The reviewer approved instead" in text
    assert "Refund order 78" in text and "over the limit" in text


def test_with_only_its_own_tools_no_upstream_is_needed(live, tmp_path):
    env = {**os.environ, "HITL_URL": live.url, "HITL_API_KEY": live.key}

    async def main():
        params = StdioServerParameters(command=sys.executable, env=env,
                                       args=["-m", "hitl_client.mcp_gate.command_line", "--offer-tools"])
        async with Client(params, read_timeout_seconds=60) as client:
            names = [t.name for t in (await client.list_tools()).tools]
            unknown = await client.call_tool("issue_refund", {})
            malformed = await client.call_tool("request_approval", {"action_type": "refund", "title": "t",
                                                                    "payload": "not an object", "confidence": 0.5})
            return names, unknown, malformed

    names, unknown, malformed = run_async(main)
    assert names == ["request_approval", "get_examples"]
    assert unknown.is_error and "no tool called 'issue_refund'" in unknown.content[0].text
    assert malformed.is_error and "payload (an object)" in malformed.content[0].text


def test_the_agent_may_reach_the_gate_over_streamable_http_too(live, settings, tmp_path):
    log, port = tmp_path / "calls.jsonl", free_port()
    env = {**os.environ, "HITL_URL": live.url, "HITL_API_KEY": live.key}
    gate_command = [sys.executable, "-m", "hitl_client.mcp_gate.command_line", *MAP, "--progress-every", "0.5",
                    "--listen", f"127.0.0.1:{port}", "--", sys.executable, UPSTREAM, str(log)]
    with serving_http(port, *gate_command, env=env) as url:
        async def main():
            async with Client(url, read_timeout_seconds=60) as client:
                return await call_while_a_reviewer_answers(live, settings, client, {"order": "5", "amount": 20},
                                                           "modify", "--reviewer", "UALICE", "--set", "amount=15")

        result, action_id = run_async(main)
    assert not result.is_error and result.structured_content == {"result": "refunded 15 for order 5"}
    assert ran(log) == [{"tool": "issue_refund", "arguments": {"order": "5", "amount": 15}}]
    wait_for(lambda: status_of(live, action_id) == "executed", 30, "the outcome's record")


def test_without_a_map_the_policys_tools_lists_name_the_action_type(live, settings, tmp_path):
    from tests.slack.conftest import use_policy
    from tests.web.test_tool_map_api import TOOLS

    use_policy(settings, TOOLS)  # refund lists issue_refund
    log = tmp_path / "calls.jsonl"
    env = {**os.environ, "HITL_URL": live.url, "HITL_API_KEY": live.key}

    async def main():
        params = StdioServerParameters(command=sys.executable, env=env, args=[
            "-m", "hitl_client.mcp_gate.command_line", "--prefix", "mcp.", "--", sys.executable, UPSTREAM, str(log)])
        async with Client(params, read_timeout_seconds=60) as client:
            return await call_while_a_reviewer_answers(live, settings, client, {"order": "3", "amount": 10},
                                                       "approve", "--reviewer", "UBOB")

    result, action_id = run_async(main)
    assert not result.is_error and ran(log) == [{"tool": "issue_refund", "arguments": {"order": "3", "amount": 10}}]
    with live.runtime.services.db.read() as s:
        assert s.get(Action, action_id).action_type == "refund"  # the policy's, not the prefix's mcp.issue_refund


def test_a_call_the_gate_refuses_or_cannot_take_is_a_tool_error_and_never_runs(live, tmp_path):
    log = tmp_path / "calls.jsonl"

    from core.agents import create_agent

    _agent, refunds_only = create_agent(live.runtime.services.db, "refunds-only", ["refund"])

    def gate_with(url: str, key: str) -> Client:
        command = ["-m", "hitl_client.mcp_gate.command_line", *MAP, "--", sys.executable, UPSTREAM, str(log)]
        env = {**os.environ, "HITL_URL": url, "HITL_API_KEY": key}
        return Client(StdioServerParameters(command=sys.executable, args=command, env=env), read_timeout_seconds=60)

    async def main():
        async with gate_with(live.url, refunds_only) as client:
            forbidden = await client.call_tool("lookup_order", {"order": "1"})  # ping: not this key's to propose
            bad_hint = await client.call_tool("issue_refund", {"order": "1", "amount": 5},
                                              meta={"io.hitl-gate/confidence": "very"})
        async with gate_with("http://127.0.0.1:9", live.key) as client:
            unreachable = await client.call_tool("issue_refund", {"order": "1", "amount": 5})
        return forbidden, bad_hint, unreachable

    forbidden, bad_hint, unreachable = run_async(main)
    assert forbidden.is_error and "hitl-gate refused this call (403" in forbidden.content[0].text
    assert bad_hint.is_error and "confidence must be a number from 0 to 1" in bad_hint.content[0].text
    assert unreachable.is_error and "could not be reached" in unreachable.content[0].text
    assert ran(log) == []
