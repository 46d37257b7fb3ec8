"""What every `hitl` command module shares: the two ways to build the service (bot/bootstrap.py).

Each command imports what it uses inside its own body: an operator's `hitl stats` or
`hitl agents create` should answer at once, not load Slack, RQ and the web framework first
(bench/cli_startup.py measures it).
"""
from __future__ import annotations


def runtime(migrate: bool = True, log_level: str = "WARNING"):
    """Everything: Redis, RQ and Slack adapters, for the processes that serve and work."""
    from bot.bootstrap import build_runtime

    return build_runtime(migrate=migrate, log_level=log_level)


def store():
    """The database and policy only. Changes made through it leave their effects in the outbox,
    which a worker's relay carries out, so an operator's command needs no Redis or Slack."""
    from bot.bootstrap import build_store

    return build_store(migrate=True, log_level="WARNING")
