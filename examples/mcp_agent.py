"""An MCP host (the part of an agent that calls tools) whose shop tools sit behind hitl-gate.

Run the service (`make run`), create a key (`.venv/bin/hitl agents create mcp-agent`), then:

    HITL_URL=http://127.0.0.1:8000 HITL_API_KEY=hitl_... .venv/bin/python examples/mcp_agent.py

It starts `hitl-mcp` in front of examples/mcp_shop_server.py, exactly as an MCP host such as an IDE
or a desktop assistant would from its configuration (see the README). A small refund, proposed with
99% confidence, passes straight through the demo policy; a larger one waits for a reviewer: approve,
modify or reject it in the sandbox, or from another terminal:

    .venv/bin/hitl actions list
    .venv/bin/hitl decide <id> modify --reviewer U0ALICE01 --set amount=40
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

HERE = Path(__file__).resolve().parent
GATE = [sys.executable, "-m", "hitl_client.mcp_gate.command_line", "--map", "issue_refund=refund", "--timeout", "600",
        "--", sys.executable, str(HERE / "mcp_shop_server.py")]


async def progress(done: float, total: float | None, message: str | None) -> None:
    print(f"  … {message} ({done:.0f} s)", flush=True)


async def main() -> None:
    gate = StdioServerParameters(command=GATE[0], args=GATE[1:], env={**os.environ})
    async with Client(gate, read_timeout_seconds=900) as shop:
        print("tools:", ", ".join(t.name for t in (await shop.list_tools()).tools))
        sure = {"io.hitl-gate/confidence": 0.99, "io.hitl-gate/title": "Refund 12.50 for order A-1001"}
        small = await shop.call_tool("issue_refund", {"order": "A-1001", "amount": 12.5}, meta=sure)
        print("small refund:", small.content[0].text)
        print("a larger refund waits for a reviewer…", flush=True)
        large = await shop.call_tool("issue_refund", {"order": "A-1002", "amount": 60}, progress_callback=progress,
                                     meta={"io.hitl-gate/confidence": 0.8})
        print("large refund:", ("refused: " if large.is_error else "") + large.content[0].text)


if __name__ == "__main__":
    anyio.run(main)
