"""Closed-loop simulation: does the learning loop make the agent better and the gate safer, or only
the reviewers tired?

    .venv/bin/python bench/closed_loop.py [--batches 12] [--batch 250] [--seeds 7 11 23]

The system runs as in production, as a black box: a real web process (uvicorn, on localhost) takes
the agent's proposals and answers its questions over HTTP with the project's own client; people
act through the `hitl` commands (decide, spot-checks, recommend, drift), run in this process; the
operator applies `hitl recommend` by editing the policy file. The gate's clock is simulated: one
batch is one day, so `--days 7` windows mean something.

The world is harder than the gate's own tests:
- three action types with different error rates, each error tied to a payload feature;
- `email` is over-confident: its confidence stays high when it is wrong, and learning fixes that
  only half the time;
- reviewers and spot-checkers miss 4% of bad proposals, and make needless edits to 2% of good ones;
- the agent learns only partly from the examples it fetches: each lesson halves a mistake, and only
  a correction, rejection or flag of that very mistake teaches it (a needless edit of the same field does not);
- from halfway through, as soon as an action type has earned a threshold, that type drifts: a new
  mistake at full confidence on half its cases, with no agent version change to warn anyone.

Loop on: the agent reads `GET /v1/examples` after every batch; the operator applies the thresholds,
modes and audit rates `hitl recommend --days 4` gives (a batch is a day); spot checks are answered; a drift alarm holds
its type in review (`on_drift: review`) and the operator clears it a batch later. Loop off: all
review, no examples, no thresholds.

Printed per batch: override rate (modified / reviewed, "—" with no reviews), reviews per 1,000
actions, escaped errors per 1,000 (wrong actions that ran: auto-approved, or approved by a reviewer
who missed it), and when the drift was caught, in actions of the drifting type since it began.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TYPES = ("refund", "email", "crm_update")
START = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
REVIEWER, AUDITOR, OPERATOR = "U0SIMREV", "U0SIMAUD", "U0SIMOPS"
MISS, NEEDLESS = 0.04, 0.02
RECENT_DAYS = 4  # the operator's `hitl recommend --days`: a batch is a day


@dataclass
class Mode:
    """One way the agent goes wrong: on proposals with `feature`, with probability `p`."""

    name: str
    action_type: str
    feature: str
    p: float
    field: str | None  # the payload field a reviewer corrects; None: the proposal must be rejected
    tag: str
    learned: bool = False  # the agent has seen it corrected (and may lower its confidence there)
    active: bool = True  # the drift mode is off until the drift

    def shown_by(self, proposed: dict, corrected: dict | None) -> bool:
        """Does this example correct this very mistake? An edit of the same field for another reason
        (a needless edit, a one-off) teaches nothing about it."""
        got = corrected or {}
        if self.field == "amount":
            return "amount" in got and round(proposed.get("amount", 0) - 7.5, 2) == got["amount"]
        if self.field == "currency":
            return proposed.get("currency") == "USD" and got.get("currency") == "EUR"
        if self.field == "phone":
            return "phone" in got and got["phone"] == "+44 " + str(proposed.get("phone"))
        if self.field == "note":
            return proposed.get("note") == "see the previous ticket"
        return True


@dataclass
class Batch:
    index: int
    actions: int = 0
    reviewed: int = 0
    modified: int = 0
    escaped: int = 0
    auto_approved: int = 0
    checks: int = 0

    @property
    def override_rate(self) -> float | None:
        return self.modified / self.reviewed if self.reviewed else None  # 0 of 0 is no data

    @property
    def reviews_per_1000(self) -> float:
        return 1000 * self.reviewed / self.actions

    @property
    def escaped_per_1000(self) -> float:
        return 1000 * self.escaped / self.actions


@dataclass
class Run:
    loop: bool
    seed: int
    batches: list[Batch] = field(default_factory=list)
    drift_type: str | None = None
    drift_batch: int | None = None
    drift_caught_after: int | None = None  # actions of the drifting type since the drift began
    drift_actions: int = 0
    changes: list[str] = field(default_factory=list)  # what the operator applied, batch by batch

    @property
    def actions(self) -> int:
        return sum(b.actions for b in self.batches)

    @property
    def escaped_per_1000(self) -> float:
        return 1000 * sum(b.escaped for b in self.batches) / self.actions

    def reviews_per_1000(self, first: int, last: int) -> float:
        part = self.batches[first:last]
        return 1000 * sum(b.reviewed for b in part) / sum(b.actions for b in part)

    def looks_per_1000(self, first: int, last: int) -> float:
        """Everything people looked at: reviews before, and spot checks after."""
        part = self.batches[first:last]
        return 1000 * sum(b.reviewed + b.checks for b in part) / sum(b.actions for b in part)


class Agent:
    """Proposes actions of three types; `modes` are its mistakes."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.modes = [
            Mode("shipping refunded too", "refund", "shipping", 0.55, "amount", "incorrect_reasoning"),
            Mode("USD for a EUR order", "refund", "eur", 0.45, "currency", "incorrect_reasoning"),
            Mode("external recipient", "email", "external", 0.35, None, "policy_violation"),
            Mode("phone without country code", "crm_update", "intl", 0.30, "phone", "incomplete_context"),
        ]
        self.p_random = 0.003
        self.trained: set[str] = set()  # types it has read examples of

    def drift(self, action_type: str) -> None:
        """A new mistake, with no version change to warn anyone (a model update upstream, a changed
        tool), on the cases the agent is sure of: the ones auto-approved, which no review sees. It
        shows in the `note` field."""
        self.modes.append(Mode("stale note copied over", action_type, "drift", 0.45, "note", "incomplete_context"))

    def case(self, action_type: str, n: int) -> dict:
        r = self.rng
        if action_type == "refund":
            case = {"id": f"o{n}", "item": round(r.uniform(10, 200), 2), "shipping": r.random() < 0.5,
                    "eur": r.random() < 0.3}
        elif action_type == "email":
            case = {"id": f"m{n}", "external": r.random() < 0.35}
        else:
            case = {"id": f"c{n}", "intl": r.random() < 0.3}
        case["drift"] = not any(v is True for v in case.values()) and r.random() < 0.7
        return case

    def propose(self, action_type: str, case: dict) -> tuple[dict, float, dict, list[Mode]]:
        """(payload, confidence, the right payload, the mistakes made)."""
        right = self.right(action_type, case)
        payload, made = dict(right), []
        for m in self.modes:
            if m.action_type == action_type and m.active and case.get(m.feature) and self.rng.random() < m.p:
                made.append(m)
                if m.field == "amount":
                    payload["amount"] = round(right["amount"] + 7.5, 2)
                elif m.field == "currency":
                    payload["currency"] = "USD"
                elif m.field == "phone":
                    payload["phone"] = payload["phone"].removeprefix("+44 ")
                elif m.field == "note":
                    payload["note"] = "see the previous ticket"
        if self.rng.random() < self.p_random and payload.get("note") == "":
            payload["note"], made = "refund twice", made + [Mode("random", action_type, "", 1, "note", "edge_case")]
        return payload, self.confidence(action_type, case), right, made

    def right(self, action_type: str, case: dict) -> dict:
        if action_type == "refund":
            return {"order": case["id"], "amount": case["item"], "currency": "EUR" if case["eur"] else "USD", "note": ""}
        if action_type == "email":
            return {"to": "ext@example.org" if case["external"] else "team@corp.example", "template": "followup",
                    "note": ""}
        return {"record": case["id"], "phone": "+44 20 7946 0000" if case["intl"] else "555 0100", "note": ""}

    def confidence(self, action_type: str, case: dict) -> float:
        r = self.rng
        if action_type not in self.trained:  # untrained: its confidence says nothing
            return round(r.uniform(0.88, 0.99) if action_type == "email" else r.uniform(0.6, 0.97), 2)
        calibrated = 0.5 if action_type == "email" else 0.85  # email stays over-confident half the time
        risky = [m for m in self.modes if m.action_type == action_type and m.active and m.learned
                 and case.get(m.feature) and m.p > 0.01]
        if risky and r.random() < calibrated:
            return round(r.uniform(0.4, 0.75), 2)
        return round(r.uniform(0.93, 0.995), 3)

    def learn(self, action_type: str, examples: list[dict]) -> None:
        """Partial learning: each mistake it recognises in its examples is halved, once per batch. It
        recognises a mistake in a correction of it (the field, changed the way that mistake needs),
        or in a rejection or a flag that names its reason on a proposal that made it."""
        self.trained.add(action_type)
        seen: set[str] = set()
        for ex in examples:
            touched = {op["path"].lstrip("/") for op in ex.get("patch") or []}
            proposed, corrected = ex["proposed_payload"], ex.get("corrected_payload")
            for m in self.modes:
                if m.action_type != action_type or m.name in seen:
                    continue
                if ex["outcome"] == "modified":
                    hit = m.field is not None and m.field in touched and m.shown_by(proposed, corrected)
                else:  # rejected, or flagged after it ran: the reason names it, and the proposal shows it
                    hit = m.tag in ex["reason_tags"] and (m.field is None or m.shown_by(proposed, None))
                if hit:
                    seen.add(m.name)
                    m.p *= 0.5
                    m.learned = True


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class Operator:
    """People at the gate, through the `hitl` commands (in this process)."""

    def __init__(self, policy_file: Path, services, rng: random.Random):
        from click.testing import CliRunner

        from bot import cli, cli_learning, cli_review, cli_watch

        for module in (cli_review, cli_learning, cli_watch):  # the commands' store: our database and clock
            module.store = lambda: services
        self.cli, self.runner, self.rng = cli.cli, CliRunner(), rng
        self.policy_file = policy_file
        self.settings = {t: {"threshold": None, "mode": "review", "audit_rate": 0.1} for t in TYPES}
        self.held_since: dict[str, int] = {}
        self.mtime = time.time()

    def hitl(self, *args: str) -> str:
        result = self.runner.invoke(self.cli, list(args), catch_exceptions=False)
        if result.exit_code:
            raise RuntimeError(f"hitl {' '.join(args)}: {result.output}")
        return result.output

    def write_policy(self) -> None:
        lines = ["version: sim", "alerts_channel: C0ALERTS", "action_types:"]
        for t, s in self.settings.items():
            risk = "medium" if t == "refund" else "low"
            lines += [f"  {t}:", f"    risk: {risk}", f"    review_mode: {s['mode']}",
                      f"    auto_approve_threshold: {'null' if s['threshold'] is None else s['threshold']}",
                      f"    audit_rate: {s['audit_rate']}", f"    sample_rate: {s['audit_rate']}", "    on_drift: review",
                      f"    reviewers: [{REVIEWER}, {AUDITOR}]"]
        self.policy_file.write_text("\n".join(lines) + "\n")
        self.mtime += 2
        os.utime(self.policy_file, (self.mtime, self.mtime))  # the policy source reloads when the mtime moves

    def review(self, action_id: str, payload: dict, right: dict, made: list[Mode], batch: Batch) -> bool:
        """Decide a pending proposal; returns whether something wrong was approved."""
        batch.reviewed += 1
        if not made:
            if self.rng.random() < NEEDLESS:  # a needless edit to a right proposal
                batch.modified += 1
                self.hitl("decide", action_id, "modify", "--reviewer", REVIEWER, "--set", 'note="checked"',
                          "--tag", "edge_case")
            else:
                self.hitl("decide", action_id, "approve", "--reviewer", REVIEWER)
            return False
        if self.rng.random() < MISS:
            self.hitl("decide", action_id, "approve", "--reviewer", REVIEWER)
            return True
        if any(m.field is None for m in made):
            self.hitl("decide", action_id, "reject", "--reviewer", REVIEWER, "--tag", made[0].tag)
            return False
        batch.modified += 1
        sets = [f"{k}={_json(v)}" for k, v in right.items() if payload.get(k) != v]
        self.hitl("decide", action_id, "modify", "--reviewer", REVIEWER, *[a for s in sets for a in ("--set", s)],
                  "--tag", made[0].tag)
        return False

    def spot_check(self, truth: dict[str, list[Mode]], batch: Batch) -> None:
        listed = self.hitl("spot-checks", "pending", "--limit", "1000")
        for action_id in re.findall(r"^(act_[0-9a-f]+)\t", listed, flags=re.M):
            made = truth[action_id]
            batch.checks += 1
            if made and self.rng.random() >= MISS:
                self.hitl("spot-checks", "verdict", action_id, "flagged", "--reviewer", AUDITOR, "--tag", made[0].tag)
            else:
                self.hitl("spot-checks", "verdict", action_id, "looks_right", "--reviewer", AUDITOR)

    def open_alarms(self) -> set[str]:
        return set(re.findall(r"^⚠ (\S+)\t", self.hitl("drift", "list"), flags=re.M))

    def apply_recommendations(self, batch_index: int) -> list[str]:
        for t in self.open_alarms():  # cleared a batch after it was caught, once someone looked into it
            since = self.held_since.setdefault(t, batch_index)
            if batch_index > since:
                self.hitl("drift", "clear", t, "--by", OPERATOR, "--note", "looked into it")
                del self.held_since[t]
        text = self.hitl("recommend", *TYPES, "--days", str(RECENT_DAYS), "--target", "0.95")
        before = {t: dict(s) for t, s in self.settings.items()}
        for block in re.split(r"\n(?=\S)", text.strip()):
            head = re.match(r"(?:⚠ )?(\S+): auto_approve_threshold: (\S+)", block)
            if not head or head[1] not in self.settings:
                continue
            s = self.settings[head[1]]
            s["threshold"] = None if head[2] == "none" else float(head[2])
            mode = re.search(r"review_mode: (\w+)(?: → (\w+))?[^;]*; audit_rate: ([\d.]+)", block)
            if mode:
                s["mode"] = mode[2] or mode[1]
                s["audit_rate"] = float(mode[3])
        self.write_policy()
        return [f"after batch {batch_index + 1}: {t} " + ", ".join(f"{k} {before[t][k]} → {v}" for k, v in s.items()
                                                                  if before[t][k] != v and k != "audit_rate")
                for t, s in self.settings.items() if any(before[t][k] != v for k, v in s.items() if k != "audit_rate")]


def _json(value) -> str:
    import json

    return json.dumps(value)


def simulate(loop: bool, batches: int = 16, batch: int = 250, seed: int = 7, drift_after: int | None = None,
             drift_type: str | None = None) -> Run:
    """`drift_after`: the earliest batch the drift may begin (default halfway); it begins in the first
    type with a threshold then. Loop off has no thresholds: pass it loop on's `drift_type` and
    `drift_batch` so both worlds drift alike."""
    import uvicorn

    from bot.bootstrap import build_runtime
    from bot.web.app import create_app
    from core.agents import create_agent
    from core.services import Services
    from core.settings import Settings
    from hitl_client import HitlClient

    drift_after = batches // 2 if drift_after is None else drift_after
    rng = random.Random(seed)
    shm = Path("/dev/shm")  # commits without fsync to a disk: the simulation measures the loop, not the disk
    folder = Path(tempfile.mkdtemp(prefix="hitl-sim-", dir=shm if shm.is_dir() else None))
    clock = Clock()
    settings = Settings(data_dir=folder, database_url=f"sqlite:///{folder}/sim.db", policy_file=folder / "policy.yaml",
                        log_level="ERROR")
    operator = None
    (folder / "policy.yaml").write_text("action_types: {}\n")
    runtime = build_runtime(settings)
    runtime.services.clock = clock
    services = Services(db=runtime.services.db, policies=runtime.services.policies, clock=clock,
                        draw=random.Random(seed + 1).random)
    runtime.services.draw = services.draw
    operator = Operator(folder / "policy.yaml", services, rng)
    operator.write_policy()
    _agent, key = create_agent(runtime.services.db, "sim-agent")
    server = uvicorn.Server(uvicorn.Config(create_app(runtime), host="127.0.0.1", port=0, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    client = HitlClient(f"http://127.0.0.1:{port}", key)
    agent = Agent(rng)
    run, truth, n = Run(loop, seed), {}, 0
    try:
        for b in range(batches):
            if run.drift_type is None and b >= drift_after:
                ready = drift_type if drift_type is not None else next(
                    (t for t in TYPES if operator.settings[t]["threshold"] is not None), None)
                if ready is not None:
                    run.drift_type, run.drift_batch = ready, b + 1
                    agent.drift(ready)
            figures = Batch(b + 1)
            for i in range(batch):
                clock.now = START + timedelta(days=b, seconds=30 * i)
                action_type = rng.choice(TYPES)
                case = agent.case(action_type, n)
                n += 1
                payload, confidence, right, made = agent.propose(action_type, case)
                a = client.request(action_type, f"{action_type} {case['id']}", payload, confidence)
                figures.actions += 1
                truth[a.id] = made
                if run.drift_type == action_type:
                    run.drift_actions += 1
                if a.status == "pending":
                    figures.escaped += operator.review(a.id, payload, right, made, figures)
                elif a.status == "auto_approved":
                    figures.auto_approved += 1
                    figures.escaped += bool(made)
                if loop and i % 50 == 49:  # the spot-checkers look a few times a day
                    operator.spot_check(truth, figures)
                    if run.drift_caught_after is None and run.drift_type in operator.open_alarms():
                        run.drift_caught_after = run.drift_actions
            run.batches.append(figures)
            if loop:
                operator.spot_check(truth, figures)
                if run.drift_caught_after is None and run.drift_type in operator.open_alarms():
                    run.drift_caught_after = run.drift_actions
                for t in TYPES:
                    agent.learn(t, client.examples(t, limit=20))
                clock.now = START + timedelta(days=b + 1)
                run.changes += operator.apply_recommendations(b)
    finally:
        client.close()
        server.should_exit = True
        thread.join(10)
        runtime.close()
        if getattr(runtime.redis, "socket_file", None):  # the embedded Redis: stop it, or every run leaves one behind
            from workers.connection import stop_server

            stop_server(runtime.redis)
    return run


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.1%}"


def report(on: Run, off: Run) -> str:
    out = [f"seed {on.seed}: escaped errors per 1,000 actions: loop on {on.escaped_per_1000:.1f}, "
           f"loop off {off.escaped_per_1000:.1f}; reviews per 1,000 in the last three batches: loop on "
           f"{on.reviews_per_1000(-3, None):.0f}, loop off {off.reviews_per_1000(-3, None):.0f} (with spot checks: "
           f"{on.looks_per_1000(-3, None):.0f}); "
           + (f"drift in {on.drift_type} from batch {on.drift_batch}, caught after "
              f"{on.drift_caught_after if on.drift_caught_after is not None else 'never'} of its actions"
              if on.drift_type else "no type earned a threshold, so no drift")]
    out += [f"  {c}" for c in on.changes]
    out.append("  batch | override on  off | reviews/1000 on  off | escaped/1000 on  off | spot checks")
    for x, y in zip(on.batches, off.batches, strict=True):
        out.append(f"  {x.index:>5} | {_pct(x.override_rate):>11} {_pct(y.override_rate):>4} | "
                   f"{x.reviews_per_1000:>15.0f} {y.reviews_per_1000:>4.0f} | {x.escaped_per_1000:>15.1f} "
                   f"{y.escaped_per_1000:>4.1f} | {x.checks:>11}")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batches", type=int, default=16)
    ap.add_argument("--batch", type=int, default=250)
    ap.add_argument("--seeds", type=int, nargs="+", default=[7, 11, 23])
    args = ap.parse_args()
    for seed in args.seeds:
        started = time.perf_counter()
        on = simulate(True, args.batches, args.batch, seed)
        off = simulate(False, args.batches, args.batch, seed, drift_after=(on.drift_batch or args.batches + 1) - 1,
                       drift_type=on.drift_type)
        print(report(on, off))
        print(f"  ({time.perf_counter() - started:.0f} s)\n")


if __name__ == "__main__":
    main()
