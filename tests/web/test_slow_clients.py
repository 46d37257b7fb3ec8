"""Slow and oversized requests against the real server (uvicorn over a socket): bounded in size and
in time, so no client can hold a connection or a worker thread open at will."""
from __future__ import annotations

import socket

import pytest

from tests.waiting import wait_for


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"body_timeout_seconds": 1.0, "keep_alive_seconds": 1})  # the default is 5 s


def connect(live) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", live.port), timeout=30)  # generous: a deadline, not a ceiling
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_a_body_shorter_than_its_content_length_gets_408_and_the_connection_closed(live):
    with connect(live) as sock:
        sock.sendall(b"POST /v1/actions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Authorization: Bearer " + live.key.encode() + b"\r\nContent-Length: 100\r\n\r\n{\"action_")
        answer = read_all(sock)  # returns once the server has closed it
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"did not arrive within 1 s" in answer


def test_headers_over_the_cap_get_431(live):
    with connect(live) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1024 * 1024) + b"\r\n\r\n")
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]


def test_an_idle_keep_alive_connection_is_closed(live):
    with connect(live) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        first = wait_for(lambda: sock.recv(65536), 30, "the health answer")
        assert first.startswith(b"HTTP/1.1 200")
        assert read_all(sock) == b""  # then nothing, and the server closes it after keep_alive_seconds
