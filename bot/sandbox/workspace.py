"""The sandbox's Slack workspace: people, user groups, channels, messages, threads, private notices
and open modals. In memory, for one `hitl dev` process; thread-safe because the Web API and the page
are served from the threadpool."""
from __future__ import annotations

import itertools
import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BOT_USER = "U0HITLBOT"
OUTSIDER = "U0MALLORY"


@dataclass
class Message:
    channel: str
    ts: str
    user: str
    text: str
    blocks: list[dict] | None = None
    thread_ts: str | None = None
    edited: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"channel": self.channel, "ts": self.ts, "user": self.user, "text": self.text, "blocks": self.blocks,
                "thread_ts": self.thread_ts, "edited": self.edited}


@dataclass
class Workspace:
    users: dict[str, str] = field(default_factory=dict)  # id -> display name
    groups: dict[str, list[str]] = field(default_factory=dict)  # S… -> member ids
    channels: dict[str, str] = field(default_factory=dict)  # C… or D… -> name
    messages: list[Message] = field(default_factory=list)
    ephemerals: list[dict] = field(default_factory=list)  # {user, channel, text, blocks, ts}
    view_stack: dict[str, list[dict]] = field(default_factory=dict)  # user -> open modals, newest last
    homes: dict[str, dict] = field(default_factory=dict)  # user -> the Home tab the bot published for them
    triggers: dict[str, str] = field(default_factory=dict)  # trigger_id -> user
    version: int = 0
    saved_to: Path | None = None  # like Slack, messages outlive a restart; private notices and modals do not

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._seq = itertools.count(1)

    # ---- set-up ----

    @classmethod
    def from_policy(cls, policy) -> Workspace:
        """People, groups and channels named by the policy, so every reviewer and escalation target
        exists; each user group gets two members of its own, plus one outsider who may decide nothing."""
        ws = cls()
        ws.channels["C0REVIEWS1"] = "reviews"
        if policy.alerts_channel:
            ws.channels[policy.alerts_channel] = "hitl-alerts"
        if policy.digest_channel:
            ws.channels.setdefault(policy.digest_channel, "hitl-digest")
        for name, entry in [("default", policy.default), *policy.action_types.items()]:
            targets = [*entry.reviewers.users, *entry.reviewers.groups]
            for tree in [entry.escalation, *(r.escalation for r in entry.rules)]:
                targets += [t for level in (tree.levels if tree else ()) for t in level.targets]
            for chan in (entry.channel, entry.audit_channel):
                if chan:
                    ws.channels.setdefault(chan, _channel_name(name, chan, entry))
            if entry.digest_channel:
                ws.channels.setdefault(entry.digest_channel, name.replace("_", "-") + "-digest")
            for t in targets:
                ws._add_target(t)
        for m in [*policy.managers.users, *policy.managers.groups]:
            ws._add_target(m)
        ws.users.setdefault("U0ALICE01", "alice")
        ws.users[OUTSIDER] = "mallory (not a reviewer)"
        ws.users[BOT_USER] = "hitl-gate"
        return ws

    def _add_target(self, t: str) -> None:
        if t[:1] in "UW":
            self.users.setdefault(t, _person(t))
        elif t[:1] == "S" and t not in self.groups:
            base = re.sub(r"\d+$", "", re.sub(r"^S0?", "", t)).lower() or "group"
            members = [f"U{t[1:]}{i}" for i in (1, 2)]
            for i, m in enumerate(members, 1):
                self.users.setdefault(m, f"{base} reviewer {i}")
            self.groups[t] = members
        elif t[:1] in "CG":
            self.channels.setdefault(t, t.lower())

    # ---- what the Web API does ----

    def _ts(self) -> str:
        return f"{int(time.time())}.{next(self._seq):06d}"

    def _changed(self) -> None:
        self.version += 1
        if self.saved_to is not None:
            tmp = self.saved_to.with_suffix(".tmp")
            tmp.write_text(json.dumps({"messages": [m.as_json() for m in self.messages],
                                       "dms": {c: n for c, n in self.channels.items() if c.startswith("D")}}))
            os.replace(tmp, self.saved_to)  # whole or not at all, should the process die mid-write

    def keep_in(self, path: Path) -> Workspace:
        """Read the messages a previous run left at `path`, and keep them there from now on."""
        if path.exists():
            try:
                saved = json.loads(path.read_text())
                self.messages = [Message(**m) for m in saved.get("messages", [])]
                self.channels.update(saved.get("dms", {}))
                self.version = len(self.messages)
            except (ValueError, TypeError):  # a file from another version: start empty rather than not at all
                self.messages = []
        path.parent.mkdir(parents=True, exist_ok=True)
        self.saved_to = path
        return self

    def post(self, channel: str, text: str, blocks: list[dict] | None, thread_ts: str | None,
             user: str = BOT_USER) -> Message:
        with self._lock:
            if channel.startswith("D") and channel not in self.channels:
                self.channels[channel] = "dm"
            msg = Message(channel=channel, ts=self._ts(), user=user, text=text or "", blocks=blocks, thread_ts=thread_ts)
            self.messages.append(msg)
            self._changed()
            return msg

    def update(self, channel: str, ts: str, text: str | None, blocks: list[dict] | None) -> Message | None:
        with self._lock:
            msg = next((m for m in self.messages if m.channel == channel and m.ts == ts), None)
            if msg is not None:
                msg.text = text if text is not None else msg.text
                msg.blocks = blocks if blocks is not None else msg.blocks
                msg.edited = True
                self._changed()
            return msg

    def ephemeral(self, user: str, channel: str, text: str, blocks: list[dict] | None = None,
                  replace_ts: str | None = None) -> str:
        """A private message; with `replace_ts`, it takes that one's place (response_url's replace_original)."""
        with self._lock:
            for e in self.ephemerals:
                if replace_ts is not None and e["ts"] == replace_ts and e["user"] == user:
                    e.update(text=text or "", blocks=blocks)
                    self._changed()
                    return replace_ts
            ts = self._ts()
            self.ephemerals.append({"user": user, "channel": channel, "text": text or "", "blocks": blocks, "ts": ts})
            self._changed()
            return ts

    def find_ephemeral(self, user: str, ts: str) -> dict | None:
        return next((e for e in self.ephemerals if e["user"] == user and e["ts"] == ts), None)

    def new_trigger(self, user: str) -> str:
        with self._lock:
            trigger = f"{next(self._seq)}.{int(time.time())}.sandbox"
            self.triggers[trigger] = user
            return trigger

    def open_view(self, trigger_id: str | None, view: dict, push: bool = False) -> dict | None:
        with self._lock:
            user = self.triggers.get(trigger_id or "")
            if user is None:
                return None
            stored = {**view, "id": f"V{next(self._seq):08d}"}
            stack = self.view_stack.setdefault(user, [])
            if not push:
                stack.clear()
            stack.append(stored)
            self._changed()
            return stored

    def update_view(self, view_id: str, view: dict) -> dict | None:
        with self._lock:
            for stack in self.view_stack.values():
                for i, v in enumerate(stack):
                    if v["id"] == view_id:
                        stack[i] = {**view, "id": view_id}
                        self._changed()
                        return stack[i]
            return None

    def publish_home(self, user: str, view: dict) -> dict | None:
        with self._lock:
            if user not in self.users:
                return None
            stored = {**view, "id": (self.homes.get(user) or {}).get("id") or f"V{next(self._seq):08d}"}
            self.homes[user] = stored
            self._changed()
            return stored

    def top_view(self, user: str) -> dict | None:
        stack = self.view_stack.get(user) or []
        return stack[-1] if stack else None

    def close_view(self, user: str, every: bool = False) -> None:
        """Close the top modal, or (`every`: Escape on a stack, a reload) all of them."""
        with self._lock:
            stack = self.view_stack.get(user) or []
            if every:
                stack.clear()
            elif stack:
                stack.pop()
            self._changed()

    def message(self, channel: str, ts: str) -> Message | None:
        return next((m for m in self.messages if m.channel == channel and m.ts == ts), None)

    # ---- what the page reads ----

    def snapshot(self, user: str) -> dict[str, Any]:
        with self._lock:
            dms = {c for c in self.channels if c == "D" + user}
            channels = [{"id": c, "name": n} for c, n in self.channels.items() if not c.startswith("D") or c in dms]
            return {
                "version": self.version,
                "users": [{"id": u, "name": n} for u, n in self.users.items() if u != BOT_USER],
                "channels": channels,
                "messages": [m.as_json() for m in self.messages if not m.channel.startswith("D") or m.channel in dms],
                "ephemerals": [e for e in self.ephemerals if e["user"] == user],
                "view": self.top_view(user),
                "home": self.homes.get(user),
                "names": dict(self.users),
            }


def _person(user_id: str) -> str:
    core = re.sub(r"^[UW]0?", "", user_id)
    core = re.sub(r"\d+$", "", core) or core
    return core.lower()


def _channel_name(action_type: str, channel: str, entry) -> str:
    return action_type.replace("_", "-") + ("-audit" if channel == entry.audit_channel != entry.channel else "")
