"""A small MCP server with two tools, the one the MCP gate examples and tests put behind hitl-gate.
It knows nothing of the gate: `hitl-mcp` stands in front of it (see examples/mcp_agent.py).

    python examples/mcp_shop_server.py [CALL_LOG]              # over stdio
    python examples/mcp_shop_server.py CALL_LOG --http PORT    # over streamable HTTP at /mcp

CALL_LOG, when given, gets one JSON line per tool call that actually ran.
"""
from __future__ import annotations

import json
import sys

from mcp.server.mcpserver import MCPServer

app = MCPServer("shop")
LOG = sys.argv[1] if len(sys.argv) > 1 else "/dev/null"


def ran(tool: str, arguments: dict) -> None:
    with open(LOG, "a") as f:
        f.write(json.dumps({"tool": tool, "arguments": arguments}) + "\n")


@app.tool()
def issue_refund(order: str, amount: float) -> str:
    """Refund part or all of an order."""
    ran("issue_refund", {"order": order, "amount": amount})
    return f"refunded {amount:g} for order {order}"


@app.tool()
def lookup_order(order: str) -> dict:
    """Read an order."""
    ran("lookup_order", {"order": order})
    return {"order": order, "total": 120}


if __name__ == "__main__":
    if "--http" in sys.argv:
        app.run("streamable-http", host="127.0.0.1", port=int(sys.argv[sys.argv.index("--http") + 1]))
    else:
        app.run()
