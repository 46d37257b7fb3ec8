"""/hitl-stats benchmark: how the time to compute the figures grows with stored decisions.

    .venv/bin/python bench/stats.py [--sizes 10000,100000,1000000] [--days 180]

For each size, a throwaway PostgreSQL database is filled in SQL (generate_series) with that many
human-decided actions spread over `--days`, one vote each, across three action types and twenty
reviewers, with reason tags on rejections and patches on modifications. The SQL fill bypasses the
code that keeps the rollups, so `rollups.rebuild` (what migration 0006 and `hitl db rebuild-rollups`
run) fills them, and is timed too. Then `metrics.stats` (what /hitl-stats, GET /v1/stats and
`hitl stats` all run) is timed for 7-, 30- and 90-day windows, for everything and for one action
type; the median of three runs is reported. The last two columns are what the Slack answer adds to
the 7-day figures: drawing the trend chart (bot/charts/trend.py, warm: matplotlib imported once
per worker) and laying the report out as Block Kit.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import PG_URL, throwaway_database  # noqa: E402

FILL = """
INSERT INTO agents (id, name, key_hash, key_prefix, action_types, created_at)
VALUES (1, 'bench', repeat('0', 64), 'hitl_bench', NULL, now());

INSERT INTO actions (id, agent_id, action_type, title, summary, payload, current_payload, revision, confidence, risk,
                     context, status, review_mode, rule, route, policy_version, approvals_required, request_hash,
                     created_at, decision, decided_at, decided_by, final_payload, patch, lock_version, timer_seq,
                     esc_level, esc_round, decision_source)
SELECT 'act_' || g, 1, (ARRAY['refund', 'send_email', 'update_crm'])[1 + g % 3], 'bench', '', '{"amount": 1}',
       '{"amount": 1}', 0, (g % 100) / 100.0, 'medium', '{}', k.kind, 'review', 'bench', '{}', 'bench', 1,
       repeat('0', 64), t.created, k.kind, t.created + interval '90 seconds' + (g % 600) * interval '1 second',
       ('["U' || (g % 20) || '"]')::json, '{"amount": 1}',
       CASE WHEN k.kind = 'modified' THEN '[{"op": "replace", "path": "/amount", "value": 2}]'::json END, 0, 0, 0, 0,
       'human'
FROM generate_series(1, :n) AS g,
     LATERAL (SELECT now() - (g::float / :n) * (:days * interval '1 day') AS created) AS t,
     LATERAL (SELECT CASE WHEN g % 10 < 7 THEN 'approved' WHEN g % 10 < 9 THEN 'modified' ELSE 'rejected' END
              AS kind) AS k;

INSERT INTO votes (action_id, agent_id, action_type, revision, reviewer, kind, reason_tags, source, created_at,
                   time_to_decision_s)
SELECT a.id, a.agent_id, a.action_type, 0, 'U' || (substr(a.id, 5)::int % 20),
       CASE a.decision WHEN 'approved' THEN 'approve' WHEN 'modified' THEN 'modify' ELSE 'reject' END,
       (CASE WHEN a.decision = 'rejected' THEN '["policy_violation"]' ELSE '[]' END)::json, 'bench', a.decided_at,
       extract(epoch FROM a.decided_at - a.created_at)
FROM actions a;
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg-url", default=PG_URL)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--days", type=int, default=180)
    args = ap.parse_args()
    print(f"{'decisions':>10} {'fill':>7} {'rebuild':>8} {'7d all':>9} {'7d type':>9} {'30d all':>9} {'30d type':>9}"
          f" {'90d all':>9} {'90d by day':>10} {'chart':>9} {'blocks':>9}")
    for n in (int(x) for x in args.sizes.split(",")):
        with throwaway_database(args.pg_url) as url:
            print(f"{n:>10,} " + " ".join(f"{v:>9}" for v in measure(url, n, args.days)), flush=True)


def measure(url: str, n: int, days: int) -> list[str]:
    from sqlalchemy import text

    from core import metrics, rollups
    from core.policy.loader import load_policy_text
    from core.services import Services
    from core.store.db import Database, Limits
    from tests.fakes import FixedPolicy, RecordingDispatcher

    db = Database(url, limits=Limits(statement=0, lock=0, idle_in_transaction=0))  # filling 1M rows takes minutes
    started = time.perf_counter()
    with db.engine.begin() as conn:
        for statement in FILL.split(";\n"):
            if statement.strip():
                conn.execute(text(statement), {"n": n, "days": days})
    fill = time.perf_counter() - started
    started = time.perf_counter()
    with db.transaction() as s:
        rollups.rebuild(s)
    rebuild = time.perf_counter() - started
    # What autovacuum does for a live database: statistics, and the visibility map that lets the
    # time-to-decision and reviewer queries read their covering indexes alone.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    services = Services(db=db, policies=FixedPolicy(load_policy_text("action_types: {}\n")),
                        dispatcher=RecordingDispatcher())
    out = [f"{fill:6.1f}s", f"{rebuild:7.1f}s"]
    for window, subject, by in ((7, None, "week"), (7, "refund", "week"), (30, None, "week"), (30, "refund", "week"),
                                (90, None, "week"), (90, None, "day")):
        runs = []
        for _ in range(3):
            t = time.perf_counter()
            metrics.stats(services, subject, window, by=by)
            runs.append(time.perf_counter() - t)
        out.append(f"{statistics.median(runs) * 1000:7.0f}ms")
    from bot.charts import trend
    from bot.slack import stats_blocks

    st = metrics.stats(services, None, 7)
    assert trend.render(st) is not None, [h.reviewed for _, h in st.trend]  # also: the import, once per worker
    for work in (lambda: trend.render(st), lambda: stats_blocks.report(st, "7d")):
        runs = []
        for _ in range(5):
            t = time.perf_counter()
            work()
            runs.append(time.perf_counter() - t)
        out.append(f"{statistics.median(runs) * 1000:7.1f}ms")
    db.dispose()
    return out


if __name__ == "__main__":
    main()
