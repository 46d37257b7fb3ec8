"""The job that posts alerts about the watch on autonomy: a drift caught on an action type."""
from __future__ import annotations

import logging

from bot.slack.jobs import BUSY, lease, post_message
from core.effects import Effect
from workers.context import runtime
from workers.names import SLACK
from workers.queue import job
from workers.settle import NotYet, settled

log = logging.getLogger(__name__)


@job(SLACK)
def post_drift_alert(ref: str) -> str:
    """Tell the policy's alerts_channel (else the type's spot-check channel) that a drift was caught."""
    from bot.slack.alert_blocks import drift_alert
    from core import drift

    rt = runtime()

    def work() -> str:
        alarm = drift.get(rt.services, drift.alarm_of(ref))
        if alarm is None or alarm.message_ts is not None:
            return "nothing owed"
        policy = rt.services.policies.current().policy
        entry, _ = policy.for_action_type(alarm.action_type)
        channel = policy.alerts_channel or entry.audit_channel or entry.channel or rt.settings.slack_default_channel
        if not channel:
            log.error("drift alarm %s has no channel: set alerts_channel in the policy or HITL_SLACK_DEFAULT_CHANNEL",
                      alarm.id)
            raise NotYet("no channel")
        with lease(rt, f"hitl:alerting:{alarm.id}") as held:
            if not held:
                raise NotYet(BUSY)
            text, blocks = drift_alert(alarm)
            response = post_message(rt, channel, text=text, blocks=blocks)
            drift.record_posted(rt.services, alarm.id, response["channel"], response["ts"])
        return "posted"

    return settled(rt, Effect.DRIFT_DETECTED, ref, work)


ROUTES = {Effect.DRIFT_DETECTED: post_drift_alert}
