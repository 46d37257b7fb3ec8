"""Running a test's own event loop, or a framework's run_sync, on a thread of its own.

Playwright's sync API (the browser tests' session-wide fixture) keeps its event loop marked as
running in the main thread for as long as it lives, so on an xdist worker that ran a browser test
`asyncio.run` fails there ("Cannot run the event loop while another loop is running"; seen in CI).
A fresh thread has no loop."""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def in_own_thread(fn: Callable[..., T], *args: Any) -> T:
    """fn(*args) on a new thread; its result, or its exception raised here."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = fn(*args)
        except BaseException as exc:  # handed to the caller as it is
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="test-own-loop")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def run_async(main: Callable[..., Any], *args: Any) -> Any:
    """anyio.run(main, *args), on a thread of its own."""
    import anyio

    return in_own_thread(anyio.run, main, *args)
