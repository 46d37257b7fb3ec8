"""The Bolt app: one register() per listener kind, served at /slack/events or over Socket Mode."""
from __future__ import annotations

from slack_bolt import App

from bot.bootstrap import Runtime
from bot.slack import button_listeners, command_listeners, event_listeners, modal_listeners
from bot.slack.deps import SlackDeps


def build_bolt_app(runtime: Runtime) -> App:
    s = runtime.settings
    app = App(
        client=runtime.slack,
        signing_secret=s.slack_signing_secret.get_secret_value() if s.slack_signing_secret else "socket-mode",
        # The listener runs before the HTTP response: listeners ack and enqueue, so the whole request
        # stays within milliseconds, and Bolt skips its 10 ms ack-polling loop (see ARCHITECTURE.md).
        process_before_response=True,
        token_verification_enabled=False,  # no auth.test at start-up; Bolt asks lazily on the first request
        raise_error_for_unhandled_request=False,
    )
    deps = SlackDeps(runtime)
    for module in (button_listeners, modal_listeners, event_listeners, command_listeners):
        module.register(app, deps)
    return app
