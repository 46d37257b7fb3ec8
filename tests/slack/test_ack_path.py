"""What runs inside an ack calls Slack at most once and never waits: views.open has no retries and
its failure becomes a private notice; reviewer groups come from a cache the workers fill; and a
long Retry-After fails a job instead of holding its worker."""
from __future__ import annotations

import json

import pytest

from bot.slack import ids
from tests.slack_requests import block_action


def ephemerals(slack) -> list[str]:
    return [p["text"] for p in slack.fake.of("chat.postEphemeral")]


@pytest.mark.parametrize("fault", ["refused", "rate limited for 30 s"])
def test_a_views_open_failure_is_told_privately_and_never_retried_in_the_ack(slack, fault):
    a = slack.propose()
    slack.drain()
    if fault == "refused":
        slack.fake.refuse("views.open", "internal_error")
    else:
        slack.fake.fail_next("views.open", status=429, retry_after=30)
    r = slack.post_interaction(block_action("UALICE", ids.MODIFY, slack.bound(a["id"])))
    assert r.status_code == 200
    assert len(slack.fake.of("views.open")) == 1  # once: no retry, no 30 s wait inside the ack
    slack.drain()
    (told,) = ephemerals(slack)
    assert "would not open the form" in told and "nothing was recorded" in told


def test_group_membership_in_an_ack_comes_from_the_workers_cache(slack):
    a = slack.propose()
    slack.drain()
    before = len(slack.fake.of("usergroups.users.list"))
    slack.post_interaction(block_action("UDAVE", ids.MODIFY, slack.bound(a["id"])))  # UDAVE is in S0FIN
    assert len(slack.fake.of("usergroups.users.list")) == before  # the web process never asks Slack
    assert slack.fake.of("views.open") == []  # an empty cache fails closed
    slack.drain()  # the refresh the listener asked for, and the notice
    assert "being looked up" in ephemerals(slack)[-1]
    assert len(slack.fake.of("usergroups.users.list")) == before + 1

    slack.post_interaction(block_action("UDAVE", ids.MODIFY, slack.bound(a["id"])))
    assert len(slack.fake.of("views.open")) == 1  # now a known member

    # A stale entry still answers (and asks for a refresh), even while Slack cannot be reached.
    rt = slack.server.runtime
    entry = json.loads(rt.redis.get("hitl:group:S0FIN"))
    rt.redis.set("hitl:group:S0FIN", json.dumps({**entry, "at": entry["at"] - 3600}))
    rt.redis.delete("hitl:group-requested:S0FIN", "hitl:group-asking:S0FIN")
    slack.fake.refuse("usergroups.users.list", "internal_error")
    slack.post_interaction(block_action("UDAVE", ids.MODIFY, slack.bound(a["id"])))
    assert len(slack.fake.of("views.open")) == 2
    slack.drain()
    assert json.loads(rt.redis.get("hitl:group:S0FIN"))["users"] == ["UDAVE"]  # the failed lookup kept the entry


def test_a_long_retry_after_fails_the_job_instead_of_holding_the_worker(slack):
    from slack_sdk.errors import SlackApiError

    from bot.slack.jobs import refresh_review

    a = slack.propose()
    slack.drain()
    slack.fake.fail_next("chat.update", status=429, retry_after=30)
    with pytest.raises(SlackApiError):
        refresh_review(a["id"])
    assert len(slack.fake.of("chat.update")) == 1  # no 30 s sleep: the outbox relay comes back later
    slack.fake.fail_next("chat.update", status=429, retry_after=1)
    assert refresh_review(a["id"]) == "updated"  # a short wait is still waited out
    assert len(slack.fake.of("chat.update")) == 3
