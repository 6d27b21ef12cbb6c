"""A stand-in for a shop's order bridge on a real socket (the REST shape in
actions/orders/http_adapter.py), with switches for the ways a real one fails."""

from __future__ import annotations

import dataclasses
import json
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterable, Iterator, List, Optional

from actions.orders.port import CHANGEABLE, Order, OrderStatus, contact_matches, order_to_json

TOKEN = "shop-bridge-token-7f3a"


@dataclass
class Request:
    method: str
    path: str            # as sent, query string included
    authorization: Optional[str]
    body: Any


@dataclass
class ShopApi:
    orders: Dict[str, Order]
    url: str = ""
    requests: List[Request] = field(default_factory=list)
    fail_with: Optional[int] = None       # answer every request with this status
    fail_times: int = 0                   # ... or only the next n requests
    hang: bool = False                    # never answer (until the server stops)
    malformed: bool = False               # 200 with a body that is not JSON
    short_conflicts: bool = False         # 409 with only {"status": ...}
    says_yes_to_any_contact: bool = False  # a buggy verify
    lock: threading.Lock = field(default_factory=threading.Lock)
    released: threading.Event = field(default_factory=threading.Event)

    def calls(self) -> int:
        with self.lock:
            return len(self.requests)

    def answer(self, method: str, path: str, body: Any) -> "tuple[int, Any]":
        parts = path.split("?")[0].removeprefix("/api").strip("/").split("/")
        if len(parts) < 2 or parts[0] != "orders":
            return 404, {"detail": "not found"}
        number, action = parts[1], (parts[2] if len(parts) > 2 else "")
        order = self.orders.get(number)
        if method == "GET" and not action:
            return (200, order_to_json(order)) if order else (404, {"detail": "not found"})
        if method != "POST" or order is None:
            return 404, {"detail": "not found"}
        if action == "verify":
            given = (body or {}).get("email_or_postcode", "")
            if self.says_yes_to_any_contact or contact_matches(order, given):
                return 200, order_to_json(order)
            return 404, {"detail": "not found"}
        if action not in ("cancel", "delivery"):
            return 404, {"detail": "not found"}
        if order.status not in CHANGEABLE:
            return 409, ({"status": order.status.value} if self.short_conflicts else order_to_json(order))
        if action == "cancel":
            changed = dataclasses.replace(order, status=OrderStatus.CANCELLED)
        elif body.get("pickup_point"):
            changed = dataclasses.replace(order, delivery="pickup_point", address=body["pickup_point"])
        else:
            changed = dataclasses.replace(order, delivery="home", address=body["address"])
        self.orders[number] = changed
        return 200, order_to_json(changed)


@contextmanager
def shop_api(orders: Iterable[Order]) -> Iterator[ShopApi]:
    api = ShopApi({order.number: order for order in orders})

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            with api.lock:
                api.requests.append(Request(self.command, self.path, self.headers.get("Authorization"), body))
                if api.hang:
                    pass
                elif self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    status, payload = 401, {"detail": "bad token"}
                elif api.fail_with:
                    status, payload = api.fail_with, {"detail": "boom"}
                elif api.fail_times:
                    api.fail_times -= 1
                    status, payload = 500, {"detail": "boom"}
                else:
                    status, payload = api.answer(self.command, self.path, body)
            if api.hang:
                api.released.wait(30)
                return
            data = b"<html>Bad gateway</html>" if api.malformed else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _handle  # noqa: N815 - http.server's naming

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    api.url = f"http://127.0.0.1:{server.server_address[1]}/api"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        api.released.set()
        server.shutdown()
        server.server_close()
