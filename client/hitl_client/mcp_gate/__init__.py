"""hitl-mcp: a gate in front of any MCP server. It re-exports the upstream's tools unchanged and
proposes each call to hitl-gate; the call reaches the upstream only on a go-ahead, with the
arguments the reviewer approved. Needs the `mcp` extra: pip install 'hitl-client[mcp]'."""
