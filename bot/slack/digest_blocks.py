"""The weekly digest message: the headline and chart, the action types that moved most, and those
whose advice changed."""
from __future__ import annotations

from datetime import datetime

from bot.slack import block_kit as bk
from bot.slack import stats_blocks
from bot.slack.mrkdwn import clip, mrkdwn, neutral
from core import stats_text as t
from core.digest import Digest


def digest_message(d: Digest, at: datetime, chart_url: str | None) -> list[dict]:
    blocks = stats_blocks.headline_blocks(d.stats, chart_url)
    blocks[0] = {"type": "header", "text": bk.text_obj("plain_text", clip(
        f"Weekly digest · {d.stats.scope} · week to {at:%b %d}", 150))}
    if d.movers:
        lines = [f"• `{mrkdwn(m.action_type, 64)}`: override {t.pct(m.now.override_rate)} "
                 f"({t.points(m.now.override_rate, m.before.override_rate) or 'new'}), rejection "
                 f"{t.pct(m.now.rejection_rate)} ({t.points(m.now.rejection_rate, m.before.rejection_rate) or 'new'}), "
                 f"{m.now.reviewed} reviewed" for m in d.movers]
        blocks.append(bk.section(clip("*Biggest movers*\n" + "\n".join(lines), 3000)))
    if d.advice:
        lines = [f"• `{mrkdwn(a.action_type, 64)}`: {neutral(a.before, 300)} → *{neutral(a.now, 300)}*" for a in d.advice]
        blocks.append(bk.section(clip("*Advice changed* (`hitl recommend` says why)\n" + "\n".join(lines), 3000)))
    blocks.append(bk.context(stats_blocks.FOR_MORE))
    return blocks[:50]


def fallback(d: Digest, at: datetime) -> str:
    return clip(neutral(f"Weekly digest, {d.stats.scope}, week to {at:%Y-%m-%d}: " + "; ".join(
        f"{x.label} {x.text}" for x in t.headline(d.stats)[:2]), 2900), 3000)
