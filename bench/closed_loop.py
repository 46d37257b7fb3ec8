"""Closed-loop simulation: does the learning loop make the agent better, or only the reviewers tired?

    .venv/bin/python bench/closed_loop.py [--actions 2000] [--batch 250] [--seed 7]

A synthetic refund agent with two systematic error modes goes through the real gate (intake,
policy, decisions, examples, recommendations) on a throwaway SQLite database, with simulated
reviewers who approve correct refunds and correct wrong ones with a Modify:

- mode A: it refunds the shipping fee too (on orders with shipping; 60 % of the time at first);
- mode B: it refunds in USD when the order was paid in EUR (50 % at first);
- and it is wrong at random 0.3 % of the time on any order.

Loop on: after every batch the agent reads `examples.recent` (its own corrected proposals) and
learns from the diffs: a mode it sees corrected becomes rarer, and it lowers its confidence on
orders where it still makes that mistake. A person applies `hitl recommend`'s threshold to the
policy. Loop off: the agent never reads the examples and the threshold is never set.

Printed per batch: override rate (modified / reviewed), human reviews per 1,000 actions, and
escaped errors (wrong refunds that went ahead without a human correcting them) per action.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

POLICY = """
action_types:
  refund:
    risk: medium
    review_mode: review
    auto_approve_threshold: {threshold}
"""


@dataclass
class Batch:
    index: int
    actions: int
    reviewed: int
    modified: int
    escaped: int

    @property
    def override_rate(self) -> float:
        return self.modified / self.reviewed if self.reviewed else 0.0

    @property
    def reviews_per_1000(self) -> float:
        return 1000 * self.reviewed / self.actions

    @property
    def escaped_rate(self) -> float:
        return self.escaped / self.actions


class Agent:
    """Proposes refunds. `p_shipping` and `p_currency` are its error modes; `risky` the features on
    which it has learned (from corrections) that it still errs, and so reports low confidence."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.p_shipping, self.p_currency, self.p_random = 0.6, 0.5, 0.003
        self.risky: set[str] = set()
        self.learned = False  # has it read any corrections yet

    def propose(self, order: dict) -> tuple[dict, float, bool]:
        """(payload, confidence, correct)."""
        amount, currency, correct = order["item"], order["currency"], True
        if order["shipping"] and self.rng.random() < self.p_shipping:
            amount, correct = order["item"] + order["shipping"], False
        if order["currency"] == "EUR" and self.rng.random() < self.p_currency:
            currency, correct = "USD", False
        if self.rng.random() < self.p_random:
            amount, correct = round(amount * 1.5, 2), False
        features = {"shipping" if order["shipping"] else None, "eur" if order["currency"] == "EUR" else None}
        # An untrained agent's confidence says nothing; a trained one is unsure where it knows it errs.
        confidence = 0.6 if features & self.risky else (0.97 if self.risky or self.learned else
                                                        self.rng.uniform(0.7, 0.97))
        return {"order": order["id"], "amount": amount, "currency": currency}, round(confidence, 2), correct

    def learn(self, corrections: list) -> None:
        """Read the diffs of corrected proposals: which fields did reviewers fix, and on which orders?"""
        fixed_amount = sum(1 for e in corrections if any(op["path"] == "/amount" for op in e.patch or []))
        fixed_currency = sum(1 for e in corrections if any(op["path"] == "/currency" for op in e.patch or []))
        self.learned = True
        if fixed_amount:
            self.p_shipping *= 0.35
            self.risky.add("shipping")
        if fixed_currency:
            self.p_currency *= 0.35
            self.risky.add("eur")
        for feature, p in (("shipping", self.p_shipping), ("eur", self.p_currency)):
            if p < 0.005:
                self.risky.discard(feature)  # it has stopped making that mistake


def simulate(loop: bool, actions: int = 2000, batch: int = 250, seed: int = 7) -> list[Batch]:
    from core import corrected_examples as examples
    from core import deciding, intake, recommend
    from core.agents import create_agent
    from core.policy.loader import load_policy_text
    from core.proposal import Proposal
    from core.services import Services
    from core.store.db import Database
    from tests.fakes import FixedPolicy, RecordingDispatcher

    rng = random.Random(seed)
    db = Database(f"sqlite:///{tempfile.mkdtemp(prefix='hitl-sim-')}/sim.db")
    db.migrate()
    policy = FixedPolicy(load_policy_text(POLICY.format(threshold="null"), "sim.yaml"))
    services = Services(db=db, policies=policy, dispatcher=RecordingDispatcher())
    identity, _key = create_agent(db, "sim-agent")
    agent = Agent(rng)
    out = []
    for b in range(actions // batch):
        figures = Batch(b + 1, batch, 0, 0, 0)
        for i in range(batch):
            order = {"id": f"o{b}-{i}", "item": round(rng.uniform(10, 200), 2),
                     "shipping": rng.choice([0, 0, 4.99, 9.99]), "currency": "EUR" if rng.random() < 0.3 else "USD"}
            payload, confidence, correct = agent.propose(order)
            view, _ = intake.submit(services, identity, Proposal(action_type="refund", title=f"Refund {order['id']}",
                                                             payload=payload, confidence=confidence))
            if view.status != "pending":
                figures.escaped += not correct  # went ahead with no human look
                continue
            figures.reviewed += 1
            if correct:
                deciding.decide(services, view.id, reviewer="UREVIEWER", kind="approve")
            else:
                figures.modified += 1
                right = {"order": order["id"], "amount": order["item"], "currency": order["currency"]}
                deciding.decide(services, view.id, reviewer="UREVIEWER", kind="modify", edited_payload=right,
                                reason_tags=["incorrect_reasoning"])
        out.append(figures)
        if loop:
            agent.learn(examples.recent(services, identity, "refund", limit=50))
            rec = recommend.recommend(services, "refund", target=0.95, min_samples=30, days=3650)
            threshold = "null" if rec.threshold is None else rec.threshold
            policy.loaded = load_policy_text(POLICY.format(threshold=threshold), "sim.yaml")
    db.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--actions", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=250)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    for loop in (True, False):
        batches = simulate(loop, args.actions, args.batch, args.seed)
        total_escaped = sum(b.escaped for b in batches) / sum(b.actions for b in batches)
        print(f"loop {'on' if loop else 'off'}: escaped errors {total_escaped:.2%} of {args.actions} actions")
        print("  batch  override rate  reviews/1000  escaped")
        for b in batches:
            print(f"  {b.index:>5}  {b.override_rate:>12.1%}  {b.reviews_per_1000:>12.0f}  {b.escaped_rate:>7.2%}")


if __name__ == "__main__":
    main()
