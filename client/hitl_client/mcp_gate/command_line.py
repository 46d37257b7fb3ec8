"""hitl-mcp [options] -- COMMAND [ARGS...]   or   hitl-mcp [options] --url URL

Speaks MCP to the agent on stdin/stdout (or, with --listen, over streamable HTTP at /mcp), and to
the upstream MCP server: a command it starts (stdio) or a URL (streamable HTTP). The gate's
address and the agent's key come from HITL_URL and HITL_API_KEY (or --gate and --api-key-env)."""
from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Any

USAGE = "hitl-mcp [options] -- COMMAND [ARGS...]  |  hitl-mcp [options] --url URL"


def parse(argv: list[str]) -> argparse.Namespace:
    upstream_cmd: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, upstream_cmd = argv[:at], argv[at + 1:]
    ap = argparse.ArgumentParser(prog="hitl-mcp", usage=USAGE, description=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="the upstream MCP server's streamable HTTP URL (instead of a command after --)")
    ap.add_argument("--gate", default=os.environ.get("HITL_URL", "http://127.0.0.1:8000"),
                    help="hitl-gate's intake (HITL_URL; default http://127.0.0.1:8000)")
    ap.add_argument("--api-key-env", default="HITL_API_KEY", metavar="NAME",
                    help="the environment variable holding the agent key (default HITL_API_KEY); never a flag, "
                         "so the key stays out of process listings")
    ap.add_argument("--prefix", default="", help="put before a tool's name to make its action type (default none)")
    ap.add_argument("--map", action="append", default=[], metavar="TOOL=ACTION_TYPE",
                    help="the action type of one tool, instead of prefix + name (repeatable)")
    ap.add_argument("--confidence", type=float, default=0.5,
                    help="the confidence proposed when a call's _meta gives no io.hitl-gate/confidence (default 0.5)")
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds to wait for a reviewer before the call is withdrawn (default: as long as the gate's SLA)")
    ap.add_argument("--listen", metavar="HOST:PORT",
                    help="serve the agent over streamable HTTP at http://HOST:PORT/mcp instead of stdio")
    ap.add_argument("--allow-remote", action="store_true",
                    help="let --listen use an address other than loopback: whoever reaches it acts as this agent")
    ap.add_argument("--offer-tools", action="store_true",
                    help="also offer request_approval and get_examples (then an upstream is optional)")
    ap.add_argument("--progress-every", type=float, default=5.0, help="seconds between progress notifications")
    args = ap.parse_args(argv)
    if args.url and upstream_cmd or not (args.url or upstream_cmd or args.offer_tools):
        ap.error("name the upstream MCP server: a command after --, or --url (one of them)")
    if not 0 <= args.confidence <= 1:
        ap.error("--confidence must be between 0 and 1")
    if args.listen:
        host, sep, port = args.listen.rpartition(":")
        if not sep or not port.isdigit() or not host:
            ap.error(f"--listen {args.listen!r}: write HOST:PORT, e.g. 127.0.0.1:8765")
        if host not in ("127.0.0.1", "localhost", "::1", "[::1]") and not args.allow_remote:
            ap.error(f"--listen {host}: anyone who reaches it would act with this agent's key; "
                     "listen on 127.0.0.1, or add --allow-remote behind your own access control")
        args.listen = (host.strip("[]"), int(port))
    mapping = {}
    for item in args.map:
        tool, sep, action_type = item.partition("=")
        if not sep or not tool or not action_type:
            ap.error(f"--map {item!r}: write TOOL=ACTION_TYPE")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}", action_type):
            ap.error(f"--map {item!r}: {action_type!r} is not an action type name (letters, digits, _ . : -; at most 64)")
        mapping[tool] = action_type
    args.action_types, args.upstream_cmd = mapping, upstream_cmd
    if not os.environ.get(args.api_key_env):
        ap.error(f"set {args.api_key_env} to the agent's key (create one with: hitl agents create NAME)")
    return args


def upstream_command(args: argparse.Namespace, params: type) -> Any:
    """The upstream server's command, with this process's environment (the SDK would pass only a few
    variables, and the upstream's own settings with them) less the agent key, which is not the upstream's."""
    env = {k: v for k, v in os.environ.items() if k != args.api_key_env}
    return params(command=args.upstream_cmd[0], args=args.upstream_cmd[1:], env=env)


def main(argv: list[str] | None = None) -> None:
    args = parse(sys.argv[1:] if argv is None else argv)
    try:
        import anyio
        from mcp import StdioServerParameters
        from mcp.server.stdio import stdio_server
    except ImportError:
        sys.exit("hitl-mcp needs the mcp extra: pip install 'hitl-client[mcp]'")
    from hitl_client.client import HitlClient
    from hitl_client.mcp_gate.gate import GateConfig, build

    upstream = args.url or (upstream_command(args, StdioServerParameters) if args.upstream_cmd else None)
    config = GateConfig(upstream=upstream, offer_tools=args.offer_tools, prefix=args.prefix, action_types=args.action_types,
                        confidence=args.confidence, timeout=args.timeout, progress_every=args.progress_every)
    client = HitlClient(args.gate, os.environ[args.api_key_env])
    server = build(config, client)

    async def serve() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    try:
        if args.listen:
            import uvicorn  # the mcp package's own dependency

            host, port = args.listen
            uvicorn.run(server.streamable_http_app(host=host), host=host, port=port, log_level="warning")
        else:
            anyio.run(serve)
    except KeyboardInterrupt:
        pass
    finally:
        client.close()


if __name__ == "__main__":
    main()
