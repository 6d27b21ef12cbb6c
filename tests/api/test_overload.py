"""Overload: at most N customer messages at Rasa per process, a short queue, and beyond it a
fast 503 with Retry-After before anything is stored; the service in its own process (uvicorn)
in front of a Rasa stand-in that answers only when the test lets it (a real local HTTP server,
so that "at Rasa" is a state the test can wait on rather than a timer)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from playwright.sync_api import Browser, expect

from api.services.admission import Admission, Busy
from core.content import read_texts
from tests.api.test_browser import open_widget, say, shop_page
from tests.support.servers import ROOT, free_port
from tests.support.stack import RATE_LIMITS_OUT_OF_THE_WAY, running_service
from tests.support.waiting import wait_for

WIDGET = read_texts(ROOT / "content" / "widget.yml")


# ---------- the slots and the queue, on their own ----------

def test_a_free_slot_is_taken_at_once_and_given_back_after_the_block() -> None:
    async def run() -> None:
        admission = Admission(max_in_flight=1, max_waiting=0, wait_seconds=1, retry_after=2)
        async with admission.slot():
            with pytest.raises(Busy) as refused:  # the only slot is taken, no queue
                async with admission.slot():
                    pass
            assert refused.value.retry_after == 2
        async with admission.slot():  # given back, also after an error inside
            pass
        with pytest.raises(RuntimeError):
            async with admission.slot():
                raise RuntimeError("bot failed")
        async with admission.slot():
            pass
    asyncio.run(run())


def test_a_waiting_message_gets_the_slot_when_it_frees_and_the_queue_is_bounded() -> None:
    async def run() -> None:
        admission = Admission(max_in_flight=1, max_waiting=1, wait_seconds=5, retry_after=1)
        release = asyncio.Event()
        order: list[str] = []

        async def first() -> None:
            async with admission.slot():
                order.append("first in")
                await release.wait()
            order.append("first out")

        async def second() -> None:
            async with admission.slot():
                order.append("second in")

        holder = asyncio.create_task(first())
        await asyncio.sleep(0)  # the first takes the slot
        waiter = asyncio.create_task(second())
        while admission.waiting < 1:  # the second waits in the queue
            await asyncio.sleep(0)
        with pytest.raises(Busy):  # the queue (one place) is full: refused at once
            async with admission.slot():
                pass
        release.set()
        await asyncio.gather(holder, waiter)
        assert order == ["first in", "first out", "second in"]
        assert admission.waiting == 0
    asyncio.run(run())


def test_a_message_that_waits_too_long_is_refused_and_leaves_the_queue() -> None:
    async def run() -> None:
        admission = Admission(max_in_flight=1, max_waiting=5, wait_seconds=0.05, retry_after=3)
        async with admission.slot():
            with pytest.raises(Busy):
                async with admission.slot():
                    pass
            assert admission.waiting == 0
        async with admission.slot():  # nothing was lost to the timeout
            pass
    asyncio.run(run())


# ---------- through the service ----------

@dataclass
class SlowRasa:
    """Rasa's REST channel that holds every message until `release` is set."""

    release: threading.Event = field(default_factory=threading.Event)
    received: list[str] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def slow_rasa() -> Iterator[SlowRasa]:
    rasa = SlowRasa()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # /status and the action server's /health
            self._json(200, {})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            rasa.received.append(body["message"])
            rasa.release.wait(timeout=30)
            self._json(200, [{"recipient_id": body["sender"], "text": "Svar fra boten."}])

        def _json(self, status: int, body: object) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rasa.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield rasa
    rasa.release.set()
    server.shutdown()


def start(api: str) -> tuple[str, dict[str, str]]:
    started = httpx.post(f"{api}/api/conversations", json={"language": "nb"}).json()
    return started["conversation_id"], {"Authorization": f"Bearer {started['customer_token']}"}


@pytest.mark.server
def test_beyond_the_slots_and_the_queue_a_message_is_refused_at_once_and_not_stored(
        tmp_path: Path, slow_rasa: SlowRasa) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "NORDHEM_DATABASE_URL": f"sqlite:///{tmp_path / 'escalations.db'}",
           "NORDHEM_RASA_URL": slow_rasa.url, "NORDHEM_ACTIONS_URL": slow_rasa.url,
           "NORDHEM_HOOK_SECRET": "s", "NORDHEM_TRACKER_STORE_URL": "sqlite://",
           "NORDHEM_RASA_MAX_IN_FLIGHT": "1", "NORDHEM_RASA_MAX_WAITING": "0",
           "NORDHEM_BUSY_RETRY_SECONDS": "3", "NORDHEM_RASA_TIMEOUT_SECONDS": "30",
           **RATE_LIMITS_OUT_OF_THE_WAY}
    api = f"http://127.0.0.1:{port}"
    with running_service(tmp_path, port, env):
        first, first_auth = start(api)
        second, second_auth = start(api)
        answers: list[httpx.Response] = []
        holder = threading.Thread(target=lambda: answers.append(httpx.post(
            f"{api}/api/conversations/{first}/messages", json={"text": "hva koster frakt?"},
            headers=first_auth, timeout=30)))
        holder.start()
        wait_for(lambda: slow_rasa.received == ["hva koster frakt?"], 10,
                 "the first message at Rasa")

        refused = httpx.post(f"{api}/api/conversations/{second}/messages",
                             json={"text": "og retur?"}, headers=second_auth, timeout=30)
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "3"
        assert refused.json()["code"] == "busy" and "nothing was stored" in refused.json()["detail"]
        history = httpx.get(f"{api}/api/conversations/{second}/messages", headers=second_auth)
        assert history.json()["messages"] == []  # sending it again keeps it once

        slow_rasa.release.set()
        holder.join(timeout=30)
        assert answers and answers[0].status_code == 200
        assert answers[0].json()["messages"][0]["text"] == "Svar fra boten."
        again = httpx.post(f"{api}/api/conversations/{second}/messages",
                           json={"text": "og retur?"}, headers=second_auth, timeout=30)
        assert again.status_code == 200
        texts = [m["text"] for m in httpx.get(f"{api}/api/conversations/{second}/messages",
                                              headers=second_auth).json()["messages"]]
        assert texts == ["og retur?", "Svar fra boten."]
        assert slow_rasa.received == ["hva koster frakt?", "og retur?"]


@pytest.mark.server
def test_the_widget_tells_the_customer_to_wait_and_sends_the_message_again_by_itself(
        tmp_path: Path, slow_rasa: SlowRasa, browser: Browser) -> None:
    """A busy bot in a real browser: the widget says so in the customer's language, keeps
    the message as "sending", sends it again after Retry-After and shows the answer; the
    message is stored once."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "NORDHEM_DATABASE_URL": f"sqlite:///{tmp_path / 'escalations.db'}",
           "NORDHEM_RASA_URL": slow_rasa.url, "NORDHEM_ACTIONS_URL": slow_rasa.url,
           "NORDHEM_HOOK_SECRET": "s", "NORDHEM_TRACKER_STORE_URL": "sqlite://",
           "NORDHEM_RASA_MAX_IN_FLIGHT": "1", "NORDHEM_RASA_MAX_WAITING": "0",
           "NORDHEM_BUSY_RETRY_SECONDS": "1", "NORDHEM_RASA_TIMEOUT_SECONDS": "30",
           "NORDHEM_CORS_ORIGINS": f"http://127.0.0.1:{port}", **RATE_LIMITS_OUT_OF_THE_WAY}
    api = f"http://127.0.0.1:{port}"
    with running_service(tmp_path, port, env):
        busy, busy_auth = start(api)
        holder = threading.Thread(target=lambda: httpx.post(
            f"{api}/api/conversations/{busy}/messages", json={"text": "hva koster frakt?"},
            headers=busy_auth, timeout=30))
        holder.start()
        wait_for(lambda: slow_rasa.received == ["hva koster frakt?"], 10, "a message at Rasa")

        page = browser.new_context(viewport={"width": 1200, "height": 800}).new_page()
        shop_page(page, SimpleNamespace(api=api), "sv")
        open_widget(page)
        say(page, "hur returnerar jag skorna?")
        expect(page.locator("#nordhem-chat-connection")).to_have_text(WIDGET["busyBot"]["sv"])
        customer = page.locator('#nordhem-chat-log [data-sender="customer"]')
        expect(customer).to_have_attribute("data-state", "sending")
        slow_rasa.release.set()
        expect(page.locator('#nordhem-chat-log [data-sender="bot"]').last).to_have_text(
            re.compile("Svar fra boten"))
        expect(customer).to_have_attribute("data-state", "sent")
        expect(page.locator("#nordhem-chat-connection")).to_be_hidden()
        holder.join(timeout=30)
        conversation = json.loads(page.evaluate("localStorage.getItem('nordhem_chat')"))
        stored = httpx.get(f"{api}/api/conversations/{conversation['conversation_id']}/messages",
                           headers={"Authorization": f"Bearer {conversation['customer_token']}"})
        assert [m["text"] for m in stored.json()["messages"]] == [
            "hur returnerar jag skorna?", "Svar fra boten."]
        page.context.close()
