"""The service's WebSockets in tests: connect, authenticate with the first frame, read events."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession


@contextmanager
def live_socket(client: TestClient, path: str, token: str) -> Iterator[WebSocketTestSession]:
    """A socket at `path`, authenticated with `token` and subscribed (its "ready" read)."""
    with client.websocket_connect(path) as socket:
        socket.send_json({"type": "auth", "token": token})
        assert socket.receive_json() == {"type": "ready"}
        yield socket


def next_of_type(socket: WebSocketTestSession, kind: str) -> dict[str, Any]:
    for _ in range(20):
        event: dict[str, Any] = socket.receive_json()
        if event["type"] == kind:
            return event
    raise AssertionError(f"no {kind} event")
