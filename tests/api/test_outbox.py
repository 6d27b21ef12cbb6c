"""Helpdesk webhooks: signed, retried with back-off, nothing lost while the helpdesk is down."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.db import Database
from api.main import create_app
from api.models import OutboxEvent
from api.security import sign
from api.services.outbox import backoff_seconds, deliver_due
from core.vocabulary import OutboxStatus
from tests.support.api import auth, claimed_escalation, make_settings

WEBHOOK_SECRET = "webhook-secret"


class Helpdesk:
    """A real HTTP endpoint that can be down (503) or up, and checks signatures."""

    def __init__(self) -> None:
        self.up = False
        self.received: list[dict] = []
        helpdesk = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ok = helpdesk.up and self.headers["X-Signature"] == sign(body, WEBHOOK_SECRET)
                if ok:
                    helpdesk.received.append(json.loads(body))
                self.send_response(200 if ok else 503)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def deliver(database: Database) -> int:
    async def run() -> int:
        async with httpx.AsyncClient(timeout=5) as http:
            return await deliver_due(database.sessions, http, WEBHOOK_SECRET, max_attempts=5)
    return asyncio.run(run())


def make_due(database: Database) -> None:
    with database.sessions() as session:
        for item in session.query(OutboxEvent).all():
            item.next_attempt_at = item.created_at
        session.commit()


def outbox(database: Database) -> list[OutboxEvent]:
    with database.sessions() as session:
        return list(session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))


def test_events_wait_in_the_outbox_until_the_helpdesk_is_back(database_url: str) -> None:
    helpdesk = Helpdesk()
    # no delivery job in the app: the test delivers, so nothing depends on timing
    settings = make_settings(database_url, webhook_urls=helpdesk.url,
                             webhook_secret=WEBHOOK_SECRET, outbox_worker=False)
    with TestClient(create_app(settings)) as client:
        agent, _, _, escalation_id = claimed_escalation(client, settings)
        client.post(f"/api/escalations/{escalation_id}/messages", json={"text": "Hei"},
                    headers=auth(agent))
        client.post(f"/api/escalations/{escalation_id}/resolve", json={"return_to_bot": False},
                    headers=auth(agent))
    database = Database(database_url)
    written = outbox(database)
    assert [(e.type, e.status, e.attempts) for e in written] == [
        ("escalation.created", OutboxStatus.PENDING, 0), ("escalation.claimed", OutboxStatus.PENDING, 0),
        ("message.created", OutboxStatus.PENDING, 0), ("escalation.resolved", OutboxStatus.PENDING, 0)]
    assert deliver(database) == 0  # helpdesk down: kept, with a later retry time
    events = outbox(database)
    assert [e.status for e in events] == [OutboxStatus.PENDING] * 4
    # the first failed; the later ones wait behind it, untried, to keep their order
    assert [e.attempts for e in events] == [1, 0, 0, 0] and events[0].last_error
    helpdesk.up = True
    assert deliver(database) == 0  # not due yet: back-off is respected
    make_due(database)
    assert deliver(database) == 4
    assert [r["type"] for r in helpdesk.received] == [
        "escalation.created", "escalation.claimed", "message.created", "escalation.resolved"]
    assert helpdesk.received[0]["data"]["transcript"][0]["text"] == "hvor er pakken?"
    assert [e.status for e in outbox(database)] == [OutboxStatus.DELIVERED] * 4
    database.engine.dispose()


def test_backoff_grows_and_is_capped() -> None:
    assert [backoff_seconds(n) for n in (1, 2, 3)] == [2, 4, 8]
    assert backoff_seconds(30) == 600


def test_a_poison_event_is_parked_and_blocks_nothing_behind_it(database_url: str) -> None:
    from api import metrics
    from api.migrate import upgrade

    helpdesk = Helpdesk()
    helpdesk.up = True
    upgrade(database_url)
    database = Database(database_url)
    with database.sessions() as session:
        session.add(OutboxEvent(url=helpdesk.url, type="message.created", payload={"n": 1}))
        # an unpaired surrogate cannot be encoded as UTF-8: this event can never be sent
        session.add(OutboxEvent(url=helpdesk.url, type="message.created",
                                payload={"text": "hei \ud800"}))
        session.add(OutboxEvent(url=helpdesk.url, type="message.created", payload={"n": 3}))
        session.commit()
    parked_before = metrics.OUTBOX_PARKED._value.get()
    assert deliver(database) == 2  # the first and the third, although the second fails
    for _ in range(4):
        make_due(database)
        assert deliver(database) == 0  # nothing is delivered twice
    assert [r["data"] for r in helpdesk.received] == [{"n": 1}, {"n": 3}]
    statuses = [(e.status, e.attempts) for e in outbox(database)]
    # it can never be sent: parked at its first attempt, not retried
    assert statuses == [(OutboxStatus.DELIVERED, 0), (OutboxStatus.FAILED, 1),
                        (OutboxStatus.DELIVERED, 0)]
    assert metrics.OUTBOX_PARKED._value.get() == parked_before + 1
    database.engine.dispose()


def test_a_helpdesk_with_a_long_backlog_does_not_starve_another(database_url: str) -> None:
    from api.migrate import upgrade

    down, other = Helpdesk(), Helpdesk()
    other.up = True
    upgrade(database_url)
    database = Database(database_url)
    with database.sessions() as session:
        for n in range(8):  # more than one batch, all older than the other helpdesk's event
            session.add(OutboxEvent(url=down.url, type="message.created", payload={"n": n}))
        session.add(OutboxEvent(url=other.url, type="message.created", payload={"n": 0}))
        session.commit()

    async def run() -> int:
        async with httpx.AsyncClient(timeout=5) as http:
            return await deliver_due(database.sessions, http, WEBHOOK_SECRET, max_attempts=5,
                                     batch=3)
    assert asyncio.run(run()) == 1
    assert [r["data"] for r in other.received] == [{"n": 0}]
    database.engine.dispose()


def test_an_event_the_helpdesk_refuses_is_parked_at_once(database_url: str) -> None:
    """A 422 refuses this payload: retrying it would hold up the helpdesk's later events."""
    from api.migrate import upgrade

    class Refusing(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(422)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/events"
    upgrade(database_url)
    database = Database(database_url)
    with database.sessions() as session:
        session.add(OutboxEvent(url=url, type="message.created", payload={"n": 1}))
        session.commit()
    assert deliver(database) == 0
    assert [(e.status, e.attempts) for e in outbox(database)] == [(OutboxStatus.FAILED, 1)]
    server.shutdown()
    database.engine.dispose()


def test_a_later_event_never_overtakes_one_waiting_for_its_retry(database_url: str) -> None:
    """Each helpdesk gets its events in order; a helpdesk that is down holds up only its own."""
    from api.migrate import upgrade

    down, other = Helpdesk(), Helpdesk()
    other.up = True
    upgrade(database_url)
    database = Database(database_url)
    with database.sessions() as session:
        session.add(OutboxEvent(url=down.url, type="escalation.created", payload={"n": 1}))
        session.add(OutboxEvent(url=other.url, type="escalation.created", payload={"n": 1}))
        session.commit()
    assert deliver(database) == 1  # the other helpdesk is not held up
    with database.sessions() as session:  # a later event, due at once
        session.add(OutboxEvent(url=down.url, type="message.created", payload={"n": 2}))
        session.commit()
    down.up = True
    assert deliver(database) == 0  # it waits behind the first, whose retry is not due yet
    assert down.received == []
    make_due(database)
    assert deliver(database) == 2
    assert [r["data"] for r in down.received] == [{"n": 1}, {"n": 2}]
    assert [r["data"] for r in other.received] == [{"n": 1}]
    database.engine.dispose()
