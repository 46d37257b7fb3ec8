"""hitl-mcp's command line: a bad invocation is a usage error (exit 2) that names the problem,
and the agent key comes only from the environment."""
from __future__ import annotations

import pytest

from hitl_client.mcp_gate.command_line import parse


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv("HITL_API_KEY", "hitl_test")


@pytest.mark.parametrize(("argv", "says"), [
    ([], "name the upstream MCP server"),
    (["--url", "http://127.0.0.1:9/mcp", "--", "server"], "name the upstream MCP server"),
    (["--map", "send_email", "--", "server"], "--map 'send_email': write TOOL=ACTION_TYPE"),
    (["--map", "send_email=send email", "--", "server"], "'send email' is not an action type name"),
    (["--confidence", "1.5", "--", "server"], "--confidence must be between 0 and 1"),
    (["--listen", "8765", "--", "server"], "write HOST:PORT"),
    (["--listen", "0.0.0.0:8765", "--", "server"], "anyone who reaches it would act with this agent's key"),
])
def test_bad_invocations_exit_2_naming_the_problem(argv, says, capsys):
    with pytest.raises(SystemExit) as stop:
        parse(argv)
    assert stop.value.code == 2 and says in capsys.readouterr().err


def test_the_key_must_be_in_the_environment(monkeypatch, capsys):
    monkeypatch.delenv("HITL_API_KEY")
    with pytest.raises(SystemExit) as stop:
        parse(["--", "server"])
    assert stop.value.code == 2 and "set HITL_API_KEY" in capsys.readouterr().err


def test_the_upstream_command_and_the_mapping_are_read_apart():
    args = parse(["--prefix", "mcp.", "--map", "issue_refund=refund", "--timeout", "30", "--",
                  "python", "server.py", "--map", "x=y"])
    assert args.upstream_cmd == ["python", "server.py", "--map", "x=y"]  # after --, everything is the upstream's
    assert args.action_types == {"issue_refund": "refund"} and args.prefix == "mcp." and args.timeout == 30


def test_listen_takes_loopback_or_an_explicit_allow_remote():
    assert parse(["--listen", "127.0.0.1:8765", "--", "server"]).listen == ("127.0.0.1", 8765)
    assert parse(["--listen", "[::1]:8765", "--", "server"]).listen == ("::1", 8765)
    assert parse(["--listen", "0.0.0.0:8765", "--allow-remote", "--", "server"]).listen == ("0.0.0.0", 8765)


def test_hitl_mcp_is_also_a_command_of_the_server_cli(capsys, monkeypatch):
    from bot.cli import main

    monkeypatch.setattr("sys.argv", ["hitl", "mcp", "--url", "http://127.0.0.1:9/mcp", "--", "server"])
    with pytest.raises(SystemExit) as stop:
        main()
    assert stop.value.code == 2 and "name the upstream MCP server" in capsys.readouterr().err


def test_a_tool_name_becomes_a_valid_action_type():
    from hitl_client.mcp_gate.gate import GateConfig

    config = GateConfig(upstream=None, prefix="mcp.", action_types={"issue_refund": "refund"})
    assert config.action_type("issue_refund") == "refund"
    assert config.action_type("send email/now") == "mcp.send_email_now"
    assert len(config.action_type("x" * 100)) == 64


def test_the_upstream_gets_this_environment_but_never_the_agent_key(monkeypatch):
    from mcp import StdioServerParameters

    from hitl_client.mcp_gate.command_line import upstream_command

    monkeypatch.setenv("SHOP_API_TOKEN", "the upstream's own")
    params = upstream_command(parse(["--", "python", "shop.py"]), StdioServerParameters)
    assert params.command == "python" and params.args == ["shop.py"]
    assert params.env["SHOP_API_TOKEN"] == "the upstream's own" and "HITL_API_KEY" not in params.env
