"""The purge: conversations idle beyond the retention are erased everywhere, empty ones
deleted; by the service's own job at its clock's time, and by `python -m api purge`.
Time is set, never waited for. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from api.db import Database
from api.main import create_app
from api.migrate import upgrade
from api.models import Conversation, Erasure, Escalation, Message, utcnow
from api.services.erasure import TrackerStore
from api.services.hub import Hub
from api.services.retention import Purged, purge
from api.settings import Settings
from tests.support.api import add_agent, auth, hook_body, make_settings, post_hook, start
from tests.support.live import live_socket
from tests.support.servers import ROOT
from tests.support.tracker_store import add_events, count_events

DAY = dt.timedelta(days=1)


@pytest.fixture
def settings(database_url: str, tracker_db: Path) -> Settings:
    return make_settings(database_url, tracker_store_url=f"sqlite:///{tracker_db}")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def purge_at(client: TestClient, settings: Settings, now: dt.datetime) -> Purged:
    hub: Hub = client.app.state.hub  # type: ignore[attr-defined]
    tracker = TrackerStore(settings.tracker_store_url)
    try:
        return purge(hub.database.sessions, tracker, now, settings.retention_days,
                     settings.empty_conversation_minutes)
    finally:
        tracker.close()


def exists(client: TestClient, conversation: str, token: str) -> bool:
    status = client.get(f"/api/conversations/{conversation}/messages", headers=auth(token)).status_code
    assert status in (200, 404)
    return status == 200


def write(client: TestClient, conversation: str, token: str, text: str = "hei") -> None:
    client.post(f"/api/conversations/{conversation}/messages", json={"text": text},
                headers=auth(token))


def test_conversations_idle_beyond_the_retention_are_erased_and_active_ones_kept(
        client: TestClient, settings: Settings, tracker_db: Path) -> None:
    started = utcnow()
    idle, idle_token = start(client)
    write(client, idle, idle_token)
    talked_later, talked_token = start(client)
    write(client, talked_later, talked_token)
    handled_later, handled_token = start(client)
    write(client, handled_later, handled_token)
    post_hook(client, hook_body(handled_later))
    database = Database(settings.database_url)
    with database.sessions() as session:
        # activity 80 days on: a message in one, the hand-off resolved in the other
        session.add(Message(conversation_id=talked_later, sender="customer", text="igjen",
                            created_at=started + 80 * DAY))
        session.execute(update(Escalation).where(Escalation.conversation_id == handled_later)
                        .values(resolved_at=started + 80 * DAY))
        session.commit()
    database.engine.dispose()
    add_events(tracker_db, idle, 4, started.timestamp())
    add_events(tracker_db, talked_later, 4, started.timestamp())  # its activity is the service's
    add_events(tracker_db, "rest-old", 2, started.timestamp())  # Rasa reached directly
    add_events(tracker_db, "rest-recent", 2, (started + 80 * DAY).timestamp())

    assert purge_at(client, settings, started + 89 * DAY).erased == 0
    assert exists(client, idle, idle_token) and count_events(tracker_db, "rest-old") == 2

    assert purge_at(client, settings, started + 91 * DAY) == Purged(erased=2, empty=0)
    assert not exists(client, idle, idle_token)
    assert exists(client, talked_later, talked_token)
    assert exists(client, handled_later, handled_token)
    assert [count_events(tracker_db, sender) for sender in
            (idle, "rest-old", talked_later, "rest-recent")] == [0, 0, 4, 2]
    database = Database(settings.database_url)
    with database.sessions() as session:
        records = session.scalars(select(Erasure)).all()
        assert [record.requested_by for record in records] == ["retention", "retention"]
        assert sorted(record.tracker_events for record in records) == [2, 4]
    database.engine.dispose()


def test_a_conversation_without_a_customer_message_expires(
        client: TestClient, settings: Settings) -> None:
    started = utcnow()
    empty, empty_token = start(client)
    written, written_token = start(client)
    write(client, written, written_token)
    handed, handed_token = start(client)
    post_hook(client, hook_body(handed))  # the bot was reached directly: not empty

    assert purge_at(client, settings, started + dt.timedelta(minutes=59)).empty == 0
    assert exists(client, empty, empty_token)
    assert purge_at(client, settings, started + dt.timedelta(minutes=61)) == Purged(0, 1)
    assert not exists(client, empty, empty_token)
    assert exists(client, written, written_token) and exists(client, handed, handed_token)
    database = Database(settings.database_url)
    with database.sessions() as session:
        assert session.scalars(select(Erasure)).all() == []  # nothing personal was there
    database.engine.dispose()


def test_the_service_purges_on_its_own_at_the_time_of_its_clock(database_url: str) -> None:
    settings = make_settings(database_url, purge_interval_seconds=0.05, retention_days=90)
    now = [utcnow()]
    with TestClient(create_app(settings, clock=lambda: now[0])) as client:
        agent = add_agent(settings, "Kari")
        empty, empty_token = start(client)
        idle, idle_token = start(client)
        write(client, idle, idle_token)
        post_hook(client, hook_body(idle))
        [escalation] = client.get("/api/escalations", headers=auth(agent)).json()
        assert exists(client, empty, empty_token) and exists(client, idle, idle_token)

        now[0] = utcnow() + 2 * dt.timedelta(hours=1)
        wait_until(lambda: not exists(client, empty, empty_token))
        assert exists(client, idle, idle_token)
        with live_socket(client, "/ws/agents", agent) as agents:
            now[0] = utcnow() + 91 * DAY
            wait_until(lambda: not exists(client, idle, idle_token))
            # the consoles drop the erased escalation from their queue
            event = agents.receive_json()
            while event["type"] != "escalation.erased":
                event = agents.receive_json()
            assert event["escalation_id"] == escalation["id"]
        now[0] = utcnow()  # Kari's token would have expired 91 days on
        assert client.get("/api/escalations", headers=auth(agent)).json() == []


def wait_until(condition: Callable[[], bool], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the purge did not happen"
        time.sleep(0.05)


def test_the_purge_command_erases_idle_and_deletes_empty_conversations(
        settings: Settings, tracker_db: Path) -> None:
    """For cron: `python -m api purge`, at the wall clock's time."""
    upgrade(settings.database_url)
    long_ago, two_hours_ago = utcnow() - 100 * DAY, utcnow() - dt.timedelta(hours=2)
    database = Database(settings.database_url)
    with database.sessions() as session:
        session.add_all([Conversation(id="c_old", customer_token_hash="x", created_at=long_ago),
                         Conversation(id="c_empty", customer_token_hash="x",
                                      created_at=two_hours_ago),
                         Conversation(id="c_new", customer_token_hash="x")])
        session.flush()
        session.add_all([Message(conversation_id="c_old", sender="customer", text="hei",
                                 created_at=long_ago),
                         Message(conversation_id="c_new", sender="customer", text="hei")])
        session.commit()
    add_events(tracker_db, "c_old", 3, long_ago.timestamp())
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NORDHEM_DATABASE_URL": settings.database_url,
           "NORDHEM_TRACKER_STORE_URL": settings.tracker_store_url, "NORDHEM_WEBHOOK_URLS": ""}

    purged = subprocess.run([sys.executable, "-m", "api", "purge"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert purged.returncode == 0, purged.stderr
    assert "erased 1 conversations" in purged.stdout and "deleted 1 empty" in purged.stdout
    with database.sessions() as session:
        assert set(session.scalars(select(Conversation.id))) == {"c_new"}
        assert [e.requested_by for e in session.scalars(select(Erasure))] == ["retention"]
    database.engine.dispose()
    assert count_events(tracker_db, "c_old") == 0
    listed = subprocess.run([sys.executable, "-m", "api", "erasures"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60).stdout
    assert "retention" in listed and "3 tracker events" in listed
