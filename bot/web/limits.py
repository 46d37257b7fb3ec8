"""What a client may cost the web process before anything parses its request: headers over
`max_header_bytes` get 431, a body over `max_bytes` 413, and a body that has not fully arrived
`body_seconds` after the headers (a slow client, or one whose Content-Length promises more than it
sends) 408 with the connection closed. uvicorn itself bounds idle keep-alive connections
(`timeout_keep_alive`, bot/cli.py) but neither header size (httptools has no cap) nor body time."""
from __future__ import annotations

import asyncio
import json


class BodyLimit:
    def __init__(self, app, max_bytes: int, max_header_bytes: int = 16 * 1024, body_seconds: float = 10.0):
        self.app, self.max_bytes = app, max_bytes
        self.max_header_bytes, self.body_seconds = max_header_bytes, body_seconds

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if sum(len(k) + len(v) + 4 for k, v in scope.get("headers", [])) > self.max_header_bytes:
            return await _reply(send, 431, {"error": "headers_too_large",
                                            "message": f"the request headers are larger than {self.max_header_bytes} bytes",
                                            "fields": []}, close=True)
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    if int(value) > self.max_bytes:
                        return await self._too_large(send)
                except ValueError:
                    return await _reply(send, 400, {"error": "invalid_request", "message": "bad Content-Length header"})
        chunks, total = [], 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.body_seconds
        while True:
            try:
                message = await asyncio.wait_for(receive(), timeout=max(0.0, deadline - loop.time()))
            except TimeoutError:
                return await _reply(send, 408, {"error": "request_timeout", "message": "the request body did not "
                                                f"arrive within {self.body_seconds:g} s", "fields": []}, close=True)
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            total += len(body)
            if total > self.max_bytes:
                return await self._too_large(send)
            chunks.append(body)
            if not message.get("more_body"):
                break
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send):
        await _reply(send, 413, {"error": "payload_too_large",
                                 "message": f"the request body is larger than {self.max_bytes} bytes", "fields": []})


def server_options(settings) -> dict:
    """uvicorn's own limits, the same for `hitl serve`, `hitl dev` and the tests' live server."""
    return {"timeout_keep_alive": settings.keep_alive_seconds, "log_level": "warning"}


async def _reply(send, status: int, body: dict, close: bool = False) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    if close:  # what remains of this request cannot be trusted to arrive: end the connection
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
