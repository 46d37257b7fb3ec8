"""The `hitl worker` process: RQ on the hitl queues, plus the reconciler on every maintenance tick."""
from __future__ import annotations

import logging

from rq import SimpleWorker, Worker
from rq.serializers import JSONSerializer

from workers.queue import QUEUES, queue
from workers.reconciler import reconcile

log = logging.getLogger(__name__)


def make_worker(runtime, fork: bool = False, queues: tuple[str, ...] = QUEUES):
    base = Worker if fork else SimpleWorker
    every = runtime.settings.reconcile_interval_seconds

    class HitlWorker(base):
        def run_maintenance_tasks(self):
            super().run_maintenance_tasks()
            try:
                reconcile(runtime, self.connection, every)
            except Exception:  # a failed pass is retried next tick; never take the worker down
                log.exception("reconciler pass failed")

    # RQ blocks on an idle queue for worker_ttl - 15 s, so this also makes an idle worker wake each tick.
    return HitlWorker([queue(runtime.redis, name) for name in queues], connection=runtime.redis,
                      serializer=JSONSerializer, maintenance_interval=every, worker_ttl=every + 15)
