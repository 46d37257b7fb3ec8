"""The named RQ queues, in the order a worker serves them: state changes a person or a deadline
waits on first, then Slack calls (paced, may wait on 429s), then HTTP to agents (may wait on
timeouts). Kept free of RQ so the CLI can name them without importing it."""
from __future__ import annotations

DECISIONS, ESCALATIONS, SLACK, CALLBACKS = "decisions", "escalations", "slack", "callbacks"
QUEUES = (DECISIONS, ESCALATIONS, SLACK, CALLBACKS)
