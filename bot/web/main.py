"""Import target for uvicorn (`--factory`) so several web processes can share one port."""
from __future__ import annotations

from bot.bootstrap import build_runtime
from bot.web.app import create_app


def build():
    # The parent process ran migrations before forking; workers must not race on them.
    return create_app(build_runtime(migrate=False))
