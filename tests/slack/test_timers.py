"""Timers on RQ: never run before their time, and rebuilt from the database when Redis loses them."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import fakeredis
from freezegun import freeze_time
from rq import SimpleWorker
from rq.scheduler import RQScheduler
from rq.serializers import JSONSerializer
from sqlalchemy import select

from core.effects import Effect, Owed
from core.store.tables import Action, Escalation
from tests.slack.conftest import use_policy
from workers.dispatch import JobDispatcher
from workers.names import ESCALATIONS, QUEUES
from workers.queue import queue, timer_job_id, timer_second
from workers.reconciler import reconcile

TREE = """
action_types:
  refund:
    escalation:
      levels: [{targets: [UALICE], timeout: 5m}, {targets: [UBOB], timeout: 5m}]
"""


def set_timer(conn, action_id: str, timer_seq: int, at: datetime) -> None:
    JobDispatcher(conn, {}, grace_seconds=10).carry(Owed(Effect.TIMER_SET, action_id, at=at, timer_seq=timer_seq))


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def scheduled(conn) -> dict[str, float]:
    return dict(queue(conn, ESCALATIONS).scheduled_job_registry.connection.zrange(
        queue(conn, ESCALATIONS).scheduled_job_registry.key, 0, -1, withscores=True))


def test_a_timer_job_is_not_released_before_its_second_is_over():
    """RQ scores scheduled jobs in whole seconds, truncating; the adapter rounds up (fakeredis, frozen time)."""
    conn = fakeredis.FakeRedis()
    at = datetime(2026, 3, 2, 9, 0, 5, 300000, tzinfo=UTC)
    set_timer(conn, "act_x", 3, at)
    set_timer(conn, "act_y", 0, at + timedelta(milliseconds=500))  # the same second: the same slot
    set_timer(conn, "act_x", 3, at)  # the same timer again (intake, then the reconciler)
    q = queue(conn, ESCALATIONS)
    assert len(q.scheduled_job_registry) == 1
    scheduler = RQScheduler([q], connection=conn, serializer=JSONSerializer)
    scheduler.acquire_locks()
    for moment, queued in [(at - timedelta(seconds=1), 0), (at - timedelta(milliseconds=1), 0), (at, 0),
                           (at + timedelta(milliseconds=699), 0), (at + timedelta(milliseconds=700), 1)]:
        with freeze_time(moment):
            scheduler.enqueue_scheduled_jobs()
            assert q.count == queued, moment
    job = q.jobs[0]
    second = timer_second(at)
    assert second == int(at.timestamp()) + 1 and job.id == timer_job_id(second) and job.args == [second]


def test_flushall_loses_the_timers_and_the_reconciler_rebuilds_them(slack, settings):
    use_policy(settings, TREE)
    rt = slack.server.runtime
    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    rt.services.clock = clock
    a = slack.propose()
    slack.drain()
    at = clock.now + timedelta(minutes=5)
    slot = {timer_job_id(timer_second(at)).encode(): float(timer_second(at))}
    assert scheduled(rt.redis) == slot

    def reconcile_now():
        rt.redis.delete("hitl:reconciler:lock")  # one pass per tick; these are separate ticks
        return reconcile(rt, rt.redis, 15)["fire_timers"]

    rt.redis.flushall()
    clock.now = at - timedelta(seconds=40)  # outside the horizon (2 ticks = 30 s): not yet
    assert reconcile_now() == 0 and scheduled(rt.redis) == {}
    clock.now = at - timedelta(seconds=20)
    assert reconcile_now() == 1 and scheduled(rt.redis) == slot
    assert reconcile_now() == 0  # already there: not scheduled twice

    rt.redis.flushall()  # lost again, and now the workers were down past the timer
    clock.now = at + timedelta(seconds=12)
    assert reconcile_now() == 1  # overdue: fired at once
    worker = SimpleWorker([queue(rt.redis, n) for n in QUEUES], connection=rt.redis, serializer=JSONSerializer)
    worker.work(burst=True)
    with rt.services.db.read() as s:
        esc = s.scalar(select(Escalation).where(Escalation.action_id == a["id"]))
        timer_at = s.scalar(select(Action.timer_at).where(Action.id == a["id"]))
    assert (esc.kind, esc.level, esc.due_at, esc.fired_at) == ("escalated", 1, at, clock.now)
    assert timer_at == clock.now + timedelta(minutes=5)
    assert scheduled(rt.redis) == {timer_job_id(timer_second(timer_at)).encode(): float(timer_second(timer_at))}


def test_frozen_time_fakeredis_and_a_simple_worker_walk_the_tree(runtime, settings):
    """The whole timer path under freezegun: intake schedules, RQ's scheduler releases, an RQ
    SimpleWorker runs fire_timers, which records the step and schedules the next one."""
    import workers.context
    from core import intake
    from core.agents import create_agent
    from core.proposal import Proposal
    from core.vocabulary import Status

    use_policy(settings, TREE.replace("levels:", "final_action: reject\n      levels:"))
    conn = fakeredis.FakeRedis()
    runtime.redis, runtime.services.dispatcher = conn, JobDispatcher(conn, {}, grace_seconds=10)
    workers.context.use(runtime)
    t0 = datetime(2026, 3, 2, 9, 0, 0, 400000, tzinfo=UTC)
    q = queue(conn, ESCALATIONS)
    scheduler = RQScheduler([q], connection=conn, serializer=JSONSerializer)
    scheduler.acquire_locks()
    worker = SimpleWorker([q], connection=conn, serializer=JSONSerializer)

    def tick(moment):
        with freeze_time(moment):
            scheduler.enqueue_scheduled_jobs()
            worker.work(burst=True)
        with runtime.services.db.read() as s:
            return [(e.kind, e.due_at, e.fired_at) for e in s.scalars(select(Escalation).order_by(Escalation.seq))]

    try:
        with freeze_time(t0):
            agent, _ = create_agent(runtime.services.db, "frozen")
            proposal = Proposal(action_type="refund", title="t", payload={}, confidence=0.5)
            a = intake.submit(runtime.services, agent, proposal)[0]
        first, second = t0 + timedelta(minutes=5), t0 + timedelta(minutes=10, seconds=0.6)
        assert tick(first - timedelta(milliseconds=1)) == []
        assert tick(first) == []  # due at .4 of a second: its slot is the next whole second
        assert tick(first + timedelta(seconds=0.6)) == [("escalated", first, first + timedelta(seconds=0.6))]
        assert tick(second - timedelta(seconds=0.5)) == [("escalated", first, first + timedelta(seconds=0.6))]
        assert tick(second + timedelta(seconds=1))[-1] == ("final", second, second + timedelta(seconds=1))
        with runtime.services.db.read() as s:
            assert s.get(Action, a.id).status == Status.REJECTED
    finally:
        workers.context.use(None)


def test_a_process_schedules_each_future_slot_once_and_an_imminent_one_every_time(monkeypatch):
    """Proposals in one second share their escalation's slot: one RQ job save, not one per proposal.
    A slot about to run is saved again, since its job may have run or been lost already."""
    import time as clock

    from workers import dispatch

    saved = []
    real = dispatch.enqueue
    monkeypatch.setattr(dispatch, "enqueue", lambda *a, **k: (saved.append(k["job_id"]), real(*a, **k))[1])
    conn = fakeredis.FakeRedis()
    dispatcher = JobDispatcher(conn, {}, grace_seconds=10)
    later = datetime.fromtimestamp(clock.time() + 600, UTC)
    for i in range(5):
        dispatcher.carry(Owed(Effect.TIMER_SET, f"act_{i}", at=later, timer_seq=0))
    assert saved == [timer_job_id(timer_second(later))]
    soon = datetime.fromtimestamp(clock.time() + 1, UTC)
    for i in range(2):
        dispatcher.carry(Owed(Effect.TIMER_SET, f"act_soon_{i}", at=soon, timer_seq=0))
    assert saved[1:] == [timer_job_id(timer_second(soon))] * 2
    assert JobDispatcher(conn, {}, grace_seconds=10).carry(Owed(Effect.TIMER_SET, "act_9", at=later, timer_seq=0))
    assert len(saved) == 4  # another process (a new dispatcher) saves it once itself
