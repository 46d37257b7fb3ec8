"""A demo agent for `hitl dev`: varied proposals through the real intake with the real client, so
the sandbox shows every path (auto-approved, reviewed, two approvals, blocked, sampled, escalating)."""
from __future__ import annotations

import itertools
import logging
import random
import threading

log = logging.getLogger(__name__)

PROPOSALS = [
    ("refund", "Refund duplicate charge on order 1042", {"amount": 42.5, "order": "1042", "card_last4": "4242",
                                                          "customer": {"tier": "standard"}}, 0.99,
     "The customer was charged twice; the second charge matches the first to the cent."),
    ("refund", "Refund order 2210 (item never arrived)", {"amount": 129.0, "order": "2210", "card_last4": "1881",
                                                           "customer": {"tier": "standard"}}, 0.82,
     "Carrier tracking shows no delivery scan after 14 days."),
    ("refund", "Refund order 3307 in full", {"amount": 740.0, "order": "3307", "card_last4": "5100",
                                             "customer": {"tier": "gold"}}, 0.74,
     "Customer reports the laptop arrived damaged; photos attached to the ticket."),
    ("send_external_email", "Reply to Acme about the delayed shipment",
     {"to": "ops@acme.example", "subject": "Your shipment", "body": "Sorry for the delay, it leaves today."}, 0.9,
     "Acme asked for a status update twice this week."),
    ("send_external_email", "Send pricing sheet to a competitor address",
     {"to": "sales@competitor.example", "subject": "Pricing", "body": "Attached is our 2027 pricing."}, 0.95,
     "The request came in through the contact form."),
    ("update_crm_record", "Update phone number for ACME Corp", {"account": "ACME Corp", "field": "phone",
                                                                "value": "+1 555 0100"}, 0.93,
     "The customer's signature in the latest email shows a new number."),
    ("update_crm_record", "Merge duplicate contacts for J. Doe", {"account": "Initech", "field": "contacts",
                                                                  "value": "merge 2 → 1"}, 0.61,
     "Two contacts share an email address."),
    ("archive_ticket", "Archive ticket #8812 as resolved", {"ticket": "8812"}, 0.88,
     "No reply from the customer for 30 days."),
    ("route_ticket", "Send ticket #9120 to billing, high priority", {"queue": "billing", "priority": "high"}, 0.86,
     "It mentions a double charge."),
]
# What the agent was given, shown to a shadow-mode reviewer instead of its answer.
CONTEXT = {"route_ticket": {"ticket": "#9120", "message": "I was charged twice for order 1042. Please fix this today!"}}


def run(base_url: str, api_key: str, count: int = 24, every: float = 6.0, stop: threading.Event | None = None) -> None:
    from hitl_client import HitlClient, HitlError

    stop = stop or threading.Event()
    rng = random.Random(7)
    client = HitlClient(base_url, api_key)
    cycle = itertools.cycle(PROPOSALS)
    for i in range(count):
        action_type, title, payload, confidence, summary = next(cycle)
        jitter = max(0.05, min(1.0, confidence + rng.uniform(-0.05, 0.05))) if i >= len(PROPOSALS) else confidence
        try:
            a = client.request(action_type, title, payload, jitter, summary=summary, run_id=f"demo-{i}",
                               context=CONTEXT.get(action_type))
            log.debug("demo agent: %s %s → %s", a.id, title, a.status)
        except HitlError as exc:
            log.warning("demo agent: %s: %s", title, exc)
        if stop.wait(every if i >= 5 else 1.0):  # a quick first handful, then a steady trickle
            return


def start(base_url: str, api_key: str, **kwargs) -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=run, args=(base_url, api_key), kwargs={**kwargs, "stop": stop}, daemon=True,
                     name="demo-agent").start()
    return stop
