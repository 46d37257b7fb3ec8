"""The dependencies every service function takes: one place where adapters are plugged in."""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from core.egress import EgressPolicy
from core.ports import Dispatcher, PolicySource
from core.store.db import Database
from core.store.types import utcnow
from core.watch import Watch


@dataclass
class Services:
    db: Database
    policies: PolicySource
    dispatcher: Dispatcher | None = None  # None: every effect waits for the workers' outbox relay
    clock: Callable[[], datetime] = utcnow
    draw: Callable[[], float] = field(default=random.random)  # sampling; tests pin it
    egress: EgressPolicy = field(default_factory=EgressPolicy)  # where callbacks may go
    recorded_policy_versions: set[str] = field(default_factory=set)
    watch: Watch = field(default_factory=Watch)  # drift holds and spot-check floors, cached per process


@dataclass(frozen=True)
class AgentIdentity:
    id: int
    name: str
    action_types: tuple[str, ...] | None  # None: any action type

    def may_propose(self, action_type: str) -> bool:
        return self.action_types is None or action_type in self.action_types
