"""The `hitl worker` process: RQ on the hitl queues, the outbox relay on a thread, and the reconciler
on every maintenance tick."""
from __future__ import annotations

import logging

from rq import SimpleWorker, Worker
from rq.exceptions import StopRequested
from rq.scheduler import RQScheduler
from rq.serializers import JSONSerializer

from workers.names import QUEUES
from workers.queue import HitlJob, queue
from workers.reconciler import reconcile

log = logging.getLogger(__name__)
# RQ's scheduler wakes once a second and releases jobs whose whole-second score has passed; timers
# are rounded up to the next second so they are never early (workers/queue.py), and waking five
# times a second removes most of the remaining delay: bench/escalations.py measured p99 lateness
# at 2.3 s with RQ's 1 s against the figures in the README with 0.2 s.
SCHEDULER_INTERVAL = 0.2


class FineScheduler(RQScheduler):
    """RQ's scheduler, waking every SCHEDULER_INTERVAL seconds. Its `interval` stays a whole second
    because RQ also derives its Redis lock TTLs from it (and Redis wants integers there)."""

    def work(self):
        import time

        self._install_signal_handlers()
        self.register_birth()
        while True:
            if self._stop_requested:
                self.stop()
                break
            if self.should_reacquire_locks:
                self.acquire_locks()
            self.heartbeat()
            self.enqueue_scheduled_jobs()
            time.sleep(SCHEDULER_INTERVAL)


def make_worker(runtime, fork: bool = False, queues: tuple[str, ...] = QUEUES):
    base = Worker if fork else SimpleWorker
    every = runtime.settings.reconcile_interval_seconds

    class HitlWorker(base):
        def _start_scheduler(self, burst=False, logging_level="INFO", date_format=None, log_format=None):
            # RQ's own method, but with our interval (RQ offers no setting for it).
            extra = {k: v for k, v in {"date_format": date_format, "log_format": log_format}.items() if v}
            self.scheduler = FineScheduler(self.queues, connection=self.connection,
                                           logging_level=logging_level or self.log.level, serializer=self.serializer,
                                           **extra)
            self.scheduler.acquire_locks()
            if not self.scheduler.acquired_locks:
                return  # another worker's scheduler holds them; ours retries on its maintenance ticks
            if burst:
                try:
                    self.scheduler.register_birth()
                    self.scheduler.enqueue_scheduled_jobs()
                finally:
                    self.scheduler.release_locks()
                    self.scheduler.register_death()
            else:
                self.scheduler.start()

        def run_maintenance_tasks(self):
            super().run_maintenance_tasks()
            try:
                reconcile(runtime, self.connection, every)
            except StopRequested:  # SIGTERM during the pass: RQ's loop must see it, or the worker never stops
                raise
            except Exception:  # a failed pass is retried next tick; never take the worker down
                log.exception("reconciler pass failed")

    # RQ blocks on an idle queue for worker_ttl - 15 s, so this also makes an idle worker wake each tick.
    return HitlWorker([queue(runtime.redis, name) for name in queues], connection=runtime.redis,
                      serializer=JSONSerializer, job_class=HitlJob, maintenance_interval=every, worker_ttl=every + 15)


def rq_log_level(runtime) -> str:
    """RQ logs four INFO lines per job; ours name the action when something matters. RQ's per-job
    lines show only at HITL_LOG_LEVEL=debug, its warnings and errors always."""
    level = runtime.settings.log_level.upper() if runtime is not None else "INFO"
    return "DEBUG" if level == "DEBUG" else "WARNING"


def run(runtime, fork: bool = False, queues: tuple[str, ...] = QUEUES, burst: bool = False) -> None:
    """`hitl worker`: RQ's worker loop, restarted when it ends for any reason but a shutdown request.
    RQ's loop quits on an unexpected error, for example Redis going away in the middle of a job's
    bookkeeping. The work itself is safe (the database knows what is owed), so the process should
    wait for Redis to come back rather than exit and leave timers and posts to a supervisor."""


    from workers.relay import INTERVAL_SECONDS, relay_once
    from workers.ticker import Ticker

    if burst:  # what the outbox holds is part of "the queued jobs"
        relay_once(runtime)
        threads = []
    else:
        threads = [Ticker("hitl-outbox-relay", INTERVAL_SECONDS, lambda: relay_once(runtime),
                          "outbox relay carried out %d effect(s)")]
        if runtime is not None:
            threads.append(Ticker("hitl-audit-sealer", runtime.settings.audit_seal_seconds,
                                  lambda: runtime.sealer(runtime), "audit sealer sealed %d event(s)", logging.DEBUG))
    for t in threads:
        t.start()
    try:
        _loop(runtime, fork, queues, burst)
    finally:
        for t in threads:
            t.stop()
    if burst and runtime is not None:  # what the jobs logged is chained before a burst worker exits
        runtime.sealer(runtime)


def _loop(runtime, fork: bool, queues: tuple[str, ...], burst: bool) -> None:
    import time

    import redis

    delay = 1.0
    while True:
        worker = None
        try:
            worker = make_worker(runtime, fork=fork, queues=queues)  # may itself need Redis
            worker.work(burst=burst, with_scheduler=not burst, logging_level=rq_log_level(runtime))
        except redis.RedisError as exc:
            log.warning("worker stopped: Redis unavailable (%s)", exc.__class__.__name__)
        # RQ records a SIGTERM/SIGINT in _shutdown_requested_date; _stop_requested is set only if it came mid-job.
        if burst or (worker is not None and (worker._stop_requested or worker._shutdown_requested_date is not None)):
            return
        log.warning("worker loop ended unexpectedly; starting again in %.0fs", delay)
        time.sleep(delay)
        delay = min(delay * 2, 30.0)
