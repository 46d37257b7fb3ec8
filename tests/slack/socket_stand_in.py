"""A local stand-in for Slack's Socket Mode endpoint (the `websockets` package's server): it says
hello to each connection, records every ack, and can send envelopes, ask the client to reconnect,
close with a close frame, or drop the TCP connection with no close frame at all."""
from __future__ import annotations

import copy
import json
import queue
import socket
import struct
import threading
import uuid

from websockets.sync.server import ServerConnection, serve

from tests.slack_requests import sample


class SocketModeStandIn:
    def __init__(self):
        self.connections: list[ServerConnection] = []
        self.acks: queue.Queue[dict] = queue.Queue()
        self.close_codes: list[int | None] = []
        self.server = serve(self._handler, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/link"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> SocketModeStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.thread.join(10)

    def _handler(self, ws: ServerConnection) -> None:
        self.connections.append(ws)
        ws.send(json.dumps({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0HITL"},
                            "debug_info": {"host": "stand-in"}}))
        try:
            for raw in ws:
                self.acks.put(json.loads(raw))
        finally:
            self.close_codes.append(ws.close_code)

    @property
    def current(self) -> ServerConnection:
        return self.connections[-1]

    def send_envelope(self, kind: str, payload: dict) -> str:
        """An envelope shaped as Slack's sample (tests/fixtures/slack/samples), with a new id."""
        envelope = copy.deepcopy(sample("socket_mode_envelope_block_actions_static_select.json"))
        envelope.update(envelope_id=str(uuid.uuid4()), type=kind, payload=payload,
                        accepts_response_payload=kind != "events_api")
        self.current.send(json.dumps(envelope))
        return envelope["envelope_id"]

    def ack_of(self, envelope_id: str, timeout: float = 60) -> dict:
        """The client's ack of that envelope (acks of others are put back)."""
        seen = []
        try:
            while True:
                ack = self.acks.get(timeout=timeout)
                if ack.get("envelope_id") == envelope_id:
                    return ack
                seen.append(ack)
        finally:
            for other in seen:
                self.acks.put(other)

    def ask_to_reconnect(self) -> None:
        self.current.send(json.dumps({"type": "disconnect", "reason": "refresh_requested"}))

    def close_with_frame(self) -> None:
        self.current.close(1001)

    def abort(self) -> None:
        """A TCP reset: no close frame, as a NAT timeout or a dying proxy leaves it."""
        sock = self.current.socket
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)  # at once, though this connection's own thread is reading it
        sock.close()
