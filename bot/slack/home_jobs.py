"""App Home: publish a person's tab when they open it, and again, paced, when their queue changes.

Only people who opened the tab in the last KEEP_DAYS get republished (a sorted set in Redis, by
when they last opened it): publishing for every reviewer of every change would spend Slack's rate
limit on tabs nobody looks at. Changes in a burst ride on one publish per person per pace."""
from __future__ import annotations

import logging
import time
from datetime import timedelta

from bot.slack import home_blocks, stats_jobs
from core import home_queue, metrics, stats_access, stats_subjects
from core.access import NoGroups, is_reviewer
from workers.context import runtime
from workers.names import SLACK
from workers.queue import enqueue, job

log = logging.getLogger(__name__)
VIEWERS = "hitl:home:viewers"
KEEP_DAYS = 30
_team_urls: dict[str, str] = {}


def _due_key(user: str) -> str:
    return f"hitl:home:due:{user}"


def _team_url(rt) -> str | None:
    """The workspace's address for permalinks, asked of Slack once per process."""
    if "url" not in _team_urls:
        try:
            _team_urls["url"] = rt.slack.auth_test()["url"]
        except Exception:  # links are a convenience: the queue still shows without them
            log.warning("auth.test failed: App Home shows no links to the reviews")
            return None
    return _team_urls["url"]


@job(SLACK)
def publish_home(user: str) -> str:
    rt = runtime()
    rt.redis.delete(_due_key(user))  # a change from now on schedules the next publish
    services, groups = rt.services, rt.groups or NoGroups()
    waiting, total = home_queue.waiting_for(services, user, groups)
    stats = chart = None
    types, _agents = stats_subjects.known(services)
    policy = services.policies.current().policy
    if policy.managers and stats_access.reader(policy, user, types, groups).manager:
        stats = metrics.stats(services, None, 7)
        chart = stats_jobs.chart_url(rt, stats)
    rt.slack.views_publish(user_id=user, view=home_blocks.home_view(waiting, total, _team_url(rt), stats, chart))
    return f"published: {total} waiting"


def opened(rt, user: str) -> bool:
    """Someone opened their tab: publish it now, and keep it current from here on."""
    now = time.time()
    with rt.redis.pipeline() as pipe:  # forget those gone for KEEP_DAYS, so the set stays the size of the team
        pipe.zadd(VIEWERS, {user: now}).zremrangebyscore(VIEWERS, 0, now - KEEP_DAYS * 86400).execute()
    return enqueue(rt.redis, publish_home, user)


def queue_changed(rt, action_id: str, reviewers: dict) -> int:
    """A review was posted or changed: schedule a paced publish for each viewer who may decide it
    (`reviewers`: the action's route snapshot's, which the caller has read already)."""
    try:
        viewers = [v.decode() if isinstance(v, bytes) else v
                   for v in rt.redis.zrangebyscore(VIEWERS, time.time() - KEEP_DAYS * 86400, "+inf")]
        groups = rt.groups or NoGroups()
        return sum(_schedule(rt, v) for v in viewers if is_reviewer(reviewers, v, groups))
    except Exception:  # the review itself is posted: a stale tab must not fail the job that posted it
        log.exception("could not schedule App Home updates for %s", action_id)
        return 0


def _schedule(rt, user: str) -> bool:
    pace = rt.settings.home_publish_pace_seconds
    if not rt.redis.set(_due_key(user), "1", nx=True, ex=max(60, int(pace * 4))):
        return False  # one is due already, and will read the queue as it is then
    at = None if pace <= 0 else rt.services.clock() + timedelta(seconds=pace)
    return enqueue(rt.redis, publish_home, user, at=at)
