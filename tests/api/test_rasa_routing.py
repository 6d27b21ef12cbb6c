"""The service spreads conversations over several Rasa servers and fails over (RASA_URLS).
Two real Rasa servers sharing PostgreSQL and Redis: tests/api/test_scaled.py."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from api.services.rasa_client import RasaClient, RasaUnavailable, instance_order
from api.settings import Settings

URLS = ["http://rasa-0:5005", "http://rasa-1:5005", "http://rasa-2:5005"]


def test_each_conversation_has_a_stable_server_and_the_load_is_even() -> None:
    conversations = [f"conversation-{n}" for n in range(6000)]
    first = Counter(instance_order(c, URLS)[0] for c in conversations)
    assert all(1700 < first[url] < 2300 for url in URLS), first
    assert all(instance_order(c, URLS) == instance_order(c, list(reversed(URLS)))
               for c in conversations[:200])


def test_removing_a_server_moves_only_its_own_conversations() -> None:
    conversations = [f"conversation-{n}" for n in range(3000)]
    before = {c: instance_order(c, URLS)[0] for c in conversations}
    after = {c: instance_order(c, URLS[:2])[0] for c in conversations}
    moved = [c for c in conversations if before[c] != after[c]]
    assert moved and all(before[c] == URLS[2] for c in moved)
    # and each of them goes where its order said it would go next
    assert all(after[c] == instance_order(c, URLS)[1] for c in moved)


class RestChannel:
    """A real HTTP endpoint answering like Rasa's REST channel, recording what it got."""

    def __init__(self, name: str) -> None:
        self.senders: list[str] = []
        channel = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                channel.senders.append(body["sender"])
                reply = json.dumps([{"recipient_id": body["sender"], "text": name}]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"  # closed again: nobody listens


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_server_that_is_down_is_skipped_and_tried_again_later() -> None:
    up, down = RestChannel("up"), closed_port_url()
    clock = Clock()
    client = RasaClient([down, up.url], timeout=5, down_seconds=5, clock=clock)
    # conversations whose first choice is the dead server
    theirs = [c for c in (f"c{n}" for n in range(50)) if instance_order(c, [down, up.url])[0] == down]

    async def scenario() -> None:
        replies = await client.send(theirs[0], "hei", {})
        assert replies == [{"recipient_id": theirs[0], "text": "up"}]
        assert client.order_for(theirs[1]) == [up.url, down]  # known down: tried last
        clock.now += 6
        assert client.order_for(theirs[1]) == [down, up.url]  # time to try it again
        await client.send(theirs[1], "hei igjen", {})
        await client.close()

    asyncio.run(scenario())
    assert up.senders == theirs[:2]


def test_no_server_answering_is_rasa_unavailable() -> None:
    client = RasaClient([closed_port_url(), closed_port_url()], timeout=5)

    async def scenario() -> None:
        with pytest.raises(RasaUnavailable):
            await client.send("c1", "hei", {})
        assert not await client.ready()
        await client.close()

    asyncio.run(scenario())


def test_rasa_urls_setting() -> None:
    assert Settings(rasa_url="http://a:5005").rasa_url_list == ["http://a:5005"]
    assert Settings(rasa_urls=" http://a:5005, http://b:5005 ,").rasa_url_list == [
        "http://a:5005", "http://b:5005"]
    with pytest.raises(ValueError, match="Redis"):
        Settings(bus_url="http://not-redis")

