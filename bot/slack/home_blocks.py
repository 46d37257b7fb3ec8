"""The App Home tab: for a reviewer, what waits for them, most urgent first, each with a link to its
review message; for a manager, also this week's headline and the trend chart."""
from __future__ import annotations

from bot.slack import block_kit as bk
from bot.slack import stats_blocks
from bot.slack.mrkdwn import mrkdwn, neutral
from core.home_queue import Waiting
from core.metrics import Stats
from core.wording import percent, plural

OPEN = "home_open"  # a link button: Slack opens the message itself, and still sends us the click
MAX_BLOCKS = 100


def permalink(team_url: str, channel: str, ts: str) -> str:
    """Slack's message permalink, built as chat.getPermalink would answer, without a call per item."""
    return f"{team_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"


def _item(w: Waiting, team_url: str | None) -> dict:
    title = f"{w.action_type} (shadow review)" if w.shadow else w.title
    facts = [f"`{mrkdwn(w.action_type, 64)}`", f"{w.risk.value} risk"]
    if not w.shadow:
        facts.append(f"confidence {percent(w.confidence)}")
    if w.due_at is not None:
        facts.append(f"SLA due {bk.date(w.due_at)}")
    if w.approvals_required > 1:
        facts.append(f"{w.approvals} of {w.approvals_required} approvals")
    block = bk.section(f"*{neutral(title, 200)}*\n" + " · ".join(facts))
    if w.channel and w.message_ts and team_url:
        block["accessory"] = {"type": "button", "text": bk.text_obj("plain_text", "Open review"), "action_id": OPEN,
                              "value": w.action_id, "url": permalink(team_url, w.channel, w.message_ts)}
    return block


def home_view(waiting: list[Waiting], total: int, team_url: str | None, stats: Stats | None = None,
              chart_url: str | None = None) -> dict:
    blocks: list[dict] = [{"type": "header", "text": bk.text_obj("plain_text", f"Waiting for you ({total})")}]
    if waiting:
        blocks.append(bk.context("Most urgent first: the SLA, then the risk, then the least sure below its threshold."))
        blocks += [_item(w, team_url) for w in waiting]
        if total > len(waiting):
            blocks.append(bk.context(f"…and {plural(total - len(waiting), 'more action')} waiting."))
    else:
        blocks.append(bk.section("Nothing waits for you. 🎉"))
    if stats is not None:
        blocks.append({"type": "divider"})
        blocks += stats_blocks.headline_blocks(stats, chart_url)
        blocks.append(bk.context(stats_blocks.FOR_MORE))
    return {"type": "home", "blocks": blocks[:MAX_BLOCKS]}
