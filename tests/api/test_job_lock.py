"""Background jobs across service processes: one round at a time, no event sent twice."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from fastapi.testclient import TestClient

from api.db import Database
from api.main import create_app
from api.security import sign
from api.services.job_lock import JobLock
from api.services.outbox import deliver_due
from tests.support.api import auth, claimed_escalation, make_settings

WEBHOOK_SECRET = "webhook-secret"


class SlowHelpdesk:
    """A real endpoint that takes a while per event, so that two delivery rounds overlap."""

    def __init__(self, seconds: float) -> None:
        self.received: list[int] = []
        helpdesk = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                assert self.headers["X-Signature"] == sign(body, WEBHOOK_SECRET)
                time.sleep(seconds)
                helpdesk.received.append(json.loads(body)["id"])
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_a_second_process_does_not_get_the_lock_until_the_first_lets_go(database_url: str) -> None:
    first, second = Database(database_url), Database(database_url)
    mine, theirs = JobLock(first.engine, "outbox"), JobLock(second.engine, "outbox")
    try:
        assert mine.acquire()
        if not mine.shared:
            # SQLite is one process's file: every round runs
            assert theirs.acquire()
            return
        assert not theirs.acquire()
        assert JobLock(second.engine, "purge").acquire()  # another job's lock is its own
        mine.release()
        assert theirs.acquire()
        theirs.release()
    finally:
        first.engine.dispose()
        second.engine.dispose()


# several service processes share PostgreSQL; SQLite is one process's file
ACROSS_PROCESSES = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@ACROSS_PROCESSES
def test_a_dead_holder_frees_the_lock(database_url: str) -> None:
    dying, survivor = Database(database_url), Database(database_url)
    holder = JobLock(dying.engine, "outbox")
    assert holder.acquire()
    assert not JobLock(survivor.engine, "outbox").acquire()
    # the process dies: its connection closes without a word
    assert holder._connection is not None
    holder._connection.invalidate()
    dying.engine.dispose()
    assert JobLock(survivor.engine, "outbox").acquire()
    survivor.engine.dispose()


@ACROSS_PROCESSES
def test_two_processes_delivering_at_once_send_each_event_once_and_in_order(
        database_url: str) -> None:
    helpdesk = SlowHelpdesk(seconds=0.05)
    settings = make_settings(database_url, webhook_urls=helpdesk.url,
                             webhook_secret=WEBHOOK_SECRET, outbox_worker=False)
    with TestClient(create_app(settings)) as client:
        agent, _, _, escalation_id = claimed_escalation(client, settings)
        for n in range(6):
            client.post(f"/api/escalations/{escalation_id}/messages", json={"text": f"svar {n}"},
                        headers=auth(agent))
    processes = [Database(database_url), Database(database_url)]

    async def process(database: Database) -> None:
        lock = JobLock(database.engine, "outbox")
        async with httpx.AsyncClient(timeout=5) as http:
            for _ in range(20):  # rounds, as deliver_forever runs them
                if await asyncio.to_thread(lock.acquire):
                    try:
                        await deliver_due(database.sessions, http, WEBHOOK_SECRET, 5)
                    finally:
                        await asyncio.to_thread(lock.release)
                await asyncio.sleep(0)

    async def both() -> None:
        await asyncio.gather(*(process(database) for database in processes))

    asyncio.run(both())
    for database in processes:
        database.engine.dispose()
    assert len(helpdesk.received) == 8  # created, claimed and six messages
    assert helpdesk.received == sorted(set(helpdesk.received))
