"""The tool error the gate answers with when a call is not carried out: words for the model."""
from __future__ import annotations

import mcp_types as types


def tool_error(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=True)
