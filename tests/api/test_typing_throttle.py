"""Typing signals are relayed at most once per NORDHEM_TYPING_INTERVAL_SECONDS per
conversation and sender; the others are dropped before they cost a database query.
Time is the app's injected clock, moved by the test."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from api.main import create_app
from api.services.typing import TypingThrottle
from api.settings import Settings
from tests.support.api import add_agent, auth, claimed_escalation, make_settings
from tests.support.live import live_socket

INTERVAL = dt.timedelta(seconds=2)
START = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.timezone.utc)


class Clock:
    """The app's clock, moved only by the test."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(database_url: str) -> Settings:
    # no outbox worker: it would query the database on its own while queries are counted
    return make_settings(database_url, outbox_worker=False,
                         typing_interval_seconds=INTERVAL.total_seconds())


@pytest.fixture
def client(settings: Settings, clock: Clock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock=clock)) as test_client:
        yield test_client


def typing_frames(socket: WebSocketTestSession, count: int) -> None:
    """Send `count` typing frames, then a frame that is not JSON: the server closes the socket
    (4400) only after it has handled every frame before it."""
    for _ in range(count):
        socket.send_json({"type": "typing"})
    socket.send_text("end")
    with pytest.raises(WebSocketDisconnect) as refusal:
        for _ in range(20):
            socket.receive_json()
    assert refusal.value.code == 4400


def events_until(socket: WebSocketTestSession, last: str) -> list[dict[str, Any]]:
    events = [socket.receive_json()]
    while events[-1]["type"] != last:
        events.append(socket.receive_json())
    return events


def test_customer_typing_is_relayed_once_per_interval_and_the_rest_cost_no_query(
        client: TestClient, settings: Settings, clock: Clock) -> None:
    agent_token, conversation, customer_token, escalation_id = claimed_escalation(client, settings)
    engine = client.app.state.hub.database.engine
    customer_path = f"/ws/conversations/{conversation}"
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    with live_socket(client, "/ws/agents", agent_token) as agents:
        with live_socket(client, customer_path, customer_token) as customer:
            customer.send_json({"type": "typing"})
            relayed = events_until(agents, "typing")[-1]
            assert (relayed["escalation_id"], relayed["sender"]) == (escalation_id, "customer")
            event.listen(engine, "before_cursor_execute", count)
            try:
                typing_frames(customer, 9)  # the rest of the interval's frames
            finally:
                event.remove(engine, "before_cursor_execute", count)
        assert statements == []

        clock.now += INTERVAL
        with live_socket(client, customer_path, customer_token) as customer:
            typing_frames(customer, 10)
        client.post(f"/api/conversations/{conversation}/messages", json={"text": "Takk"},
                    headers=auth(customer_token))  # a marker after every typing event
        later = events_until(agents, "message.created")
    assert [e["type"] for e in later].count("typing") == 1  # one of the next interval's ten


def test_agent_typing_is_relayed_once_per_interval_and_always_answered_204(
        client: TestClient, settings: Settings, clock: Clock) -> None:
    agent_token, conversation, customer_token, escalation_id = claimed_escalation(client, settings)
    typing = f"/api/escalations/{escalation_id}/typing"
    with live_socket(client, f"/ws/conversations/{conversation}", customer_token) as customer:
        answers = [client.post(typing, headers=auth(agent_token)).status_code for _ in range(5)]
        clock.now += INTERVAL - dt.timedelta(milliseconds=1)
        answers.append(client.post(typing, headers=auth(agent_token)).status_code)
        clock.now += dt.timedelta(milliseconds=1)
        answers += [client.post(typing, headers=auth(agent_token)).status_code for _ in range(5)]
        client.post(f"/api/escalations/{escalation_id}/messages", json={"text": "Hei"},
                    headers=auth(agent_token))  # a marker after every typing event
        events = events_until(customer, "message")
        while events[-1]["message"]["sender"] != "agent":
            events += events_until(customer, "message")
    assert answers == [204] * 11
    relayed = [e for e in events if e["type"] == "typing"]
    assert [(e["sender"], e["agent_name"]) for e in relayed] == [("agent", "Kari")] * 2


def test_an_agent_who_did_not_claim_is_refused_every_time(client: TestClient,
                                                          settings: Settings) -> None:
    agent_token, _, _, escalation_id = claimed_escalation(client, settings)
    other = add_agent(settings, "Lina")
    typing = f"/api/escalations/{escalation_id}/typing"
    assert [client.post(typing, headers=auth(other)).status_code for _ in range(3)] == [409] * 3
    assert client.post(typing, headers=auth(agent_token)).status_code == 204
    assert client.post("/api/escalations/999999/typing",
                       headers=auth(agent_token)).status_code == 404


def test_the_throttle_keeps_conversations_and_senders_apart() -> None:
    throttle = TypingThrottle(INTERVAL.total_seconds())
    keys = [("customer", "c_1"), ("customer", "c_2"), ("agent", 1, 7)]
    assert [throttle.allow(key, START) for key in keys] == [True, True, True]
    assert [throttle.allow(key, START + INTERVAL / 2) for key in keys] == [False] * 3
    assert [throttle.allow(key, START + INTERVAL) for key in keys] == [True] * 3


def test_a_clock_set_back_does_not_silence_a_key() -> None:
    throttle = TypingThrottle(INTERVAL.total_seconds())
    assert throttle.allow("c_1", START)
    assert throttle.allow("c_1", START - dt.timedelta(hours=1))
    assert not throttle.allow("c_1", START - dt.timedelta(hours=1) + INTERVAL / 2)
