"""The `hitl worker` process: RQ on the hitl queues, plus the reconciler on every maintenance tick."""
from __future__ import annotations

import logging

from rq import SimpleWorker, Worker
from rq.serializers import JSONSerializer

from workers.queue import QUEUES, queue
from workers.reconciler import reconcile

log = logging.getLogger(__name__)
RECONCILE_EVERY = 15  # seconds; an idle worker wakes at least this often (worker_ttl - 15 s)


def make_worker(runtime, fork: bool = False):
    base = Worker if fork else SimpleWorker

    class HitlWorker(base):
        def run_maintenance_tasks(self):
            super().run_maintenance_tasks()
            try:
                reconcile(runtime, self.connection, RECONCILE_EVERY)
            except Exception:  # a failed pass is retried next tick; never take the worker down
                log.exception("reconciler pass failed")

    return HitlWorker([queue(runtime.redis, name) for name in QUEUES], connection=runtime.redis,
                      serializer=JSONSerializer, maintenance_interval=RECONCILE_EVERY, worker_ttl=RECONCILE_EVERY + 15)
