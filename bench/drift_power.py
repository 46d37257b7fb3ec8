"""How often the drift test catches a drift in time, and how often it cries wolf, at a given audit rate.

    .venv/bin/python bench/drift_power.py [--trials 4000]

Monte Carlo over the project's own test (core/drift.py's CUSUM, P0, P1, H and TIGHTEN_AT) and its
tightened inspection (core/policy/audit_draw.py's TIGHTENED_BOOST): each of a type's auto-approvals
is drawn for a spot check with the audit rate (times the boost while the statistic is up), and a
check is flagged with the drift's error rate. Printed: the share of runs caught within 200 of the
type's actions, per drift size, and the share with a false alarm within 1,000 in-control actions.
The chosen constants are the ones that keep the first near 95% at an 11% drift with the audit
rate `hitl recommend` advises (core/autonomy.py DETECT_RATE), with fewer false alarms than before.
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import drift
from core.autonomy import DETECT_RATE
from core.policy.audit_draw import TIGHTENED_BOOST


def caught(rate: float, error: float, actions: int, trials: int, rng: random.Random) -> float:
    hits = 0
    for _ in range(trials):
        s = 0.0
        for _ in range(actions):
            p = min(1.0, rate * (TIGHTENED_BOOST if s >= drift.TIGHTEN_AT else 1.0))
            if rng.random() < p:
                s = max(0.0, s + (drift.UP if rng.random() < error else drift.DOWN))
                if s >= drift.H:
                    hits += 1
                    break
    return hits / trials


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=4000)
    args = ap.parse_args()
    rng = random.Random(1)
    print(f"CUSUM P0 {drift.P0}, P1 {drift.P1}, H {drift.H}; tightened ×{TIGHTENED_BOOST:g} from {drift.TIGHTEN_AT}")
    print("audit rate | caught within 200: drift 8%  11%  15% | false alarm within 1,000: in control 1%  2%  3%")
    for rate in sorted({0.15, 0.2, DETECT_RATE, 0.3}):
        hit = [caught(rate, e, 200, args.trials, rng) for e in (0.08, 0.11, 0.15)]
        wolf = [caught(rate, e, 1000, args.trials // 3, rng) for e in (0.01, 0.02, 0.03)]
        mark = "  ← advised floor" if rate == DETECT_RATE else ""
        print(f"{rate:>10.2f} | {'':>19}" + "  ".join(f"{h:.0%}" for h in hit) + f" | {'':>24}"
              + "  ".join(f"{w:.0%}" for w in wolf) + mark)


if __name__ == "__main__":
    main()
