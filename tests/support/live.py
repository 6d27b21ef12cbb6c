"""The service's WebSockets in tests: connect, authenticate with the first frame, read events."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from websockets.sync.client import ClientConnection, connect


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


@contextmanager
def live_server_socket(url: str, token: str) -> Iterator[ClientConnection]:
    """A socket on a running server (ws://...), authenticated and subscribed."""
    with connect(url) as socket:
        socket.send(json.dumps({"type": "auth", "token": token}))
        assert json.loads(socket.recv(timeout=10)) == {"type": "ready"}
        yield socket


def receive_until(socket: ClientConnection, predicate: Callable[[dict[str, Any]], bool],
                  seconds: float = 10) -> dict[str, Any]:
    """The first event on a running server's socket that `predicate` accepts."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        event = json.loads(socket.recv(timeout=max(0.1, deadline - time.monotonic())))
        if predicate(event):
            return event
    raise AssertionError("expected event did not arrive")
