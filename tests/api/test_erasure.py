"""Erasure: an agent confirms a customer's erasure request, or an operator runs
`python -m api erase`; the conversation is then gone from the service, the helpdesk outbox
and Rasa's tracker store, and a record without personal data says it happened.

On SQLite and PostgreSQL, with a tracker store laid out as Rasa's (tests/support/tracker_store.py);
the last test runs the real Rasa, action server and service."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.testclient import WebSocketTestSession

from api.db import Database
from api.main import create_app
from api.models import Agent, Conversation, Erasure, Escalation, Message, OutboxEvent
from api.services.erasure import TrackerStore
from api.settings import Settings
from core.content import load_content, notice
from tests.support.api import add_agent, auth, hook_body, make_settings, post_hook, start
from tests.support.live import live_server_socket as live
from tests.support.live import live_socket, receive_until
from tests.support.servers import ROOT
from tests.support.stack import Stack, running_stack
from tests.support.tracker_store import add_events, count_events

HELPDESK = "http://127.0.0.1:9/helpdesk"


@pytest.fixture
def erasing_settings(database_url: str, tracker_db: Path) -> Settings:
    # a helpdesk that is never reached: its events stay in the outbox, to be erased there
    return make_settings(database_url, tracker_store_url=f"sqlite:///{tracker_db}",
                         webhook_urls=HELPDESK, webhook_secret="helpdesk", outbox_worker=False)


def escalation_of(client: TestClient, agent_token: str, conversation: str) -> dict[str, Any]:
    [item] = [e for e in client.get("/api/escalations", headers=auth(agent_token)).json()
              if e["conversation_id"] == conversation]
    return item


def erasure_request(client: TestClient, agent_token: str,
                    language: str = "nb") -> tuple[str, str, dict[str, Any]]:
    """A conversation whose customer asked for erasure, handed to the agents:
    (conversation id, customer token, its escalation)."""
    conversation, token = start(client, language)
    client.post(f"/api/conversations/{conversation}/messages", json={"text": "slett alt om meg"},
                headers=auth(token))
    post_hook(client, hook_body(conversation, reason="erasure_request", language=language))
    return conversation, token, escalation_of(client, agent_token, conversation)


def read_until(socket: WebSocketTestSession, wanted: dict[str, Any]) -> dict[str, Any]:
    """The first event holding every item of `wanted` (a nested dict matches its items)."""
    def holds(event: dict[str, Any], expected: dict[str, Any]) -> bool:
        return all(holds(event.get(key) or {}, value) if isinstance(value, dict)
                   else event.get(key) == value for key, value in expected.items())
    for _ in range(30):
        event: dict[str, Any] = socket.receive_json()
        if holds(event, wanted):
            return event
    raise AssertionError(f"no event with {wanted}")


def test_a_confirmed_erasure_request_erases_the_conversation_everywhere(
        erasing_settings: Settings, tracker_db: Path) -> None:
    with TestClient(create_app(erasing_settings)) as client:
        kari = add_agent(erasing_settings, "Kari")
        conversation, token, escalation = erasure_request(client, kari)
        other, _ = start(client)
        post_hook(client, hook_body(other))
        add_events(tracker_db, conversation, 5, time.time())
        add_events(tracker_db, other, 3, time.time())
        with live_socket(client, "/ws/agents", kari) as agents, \
                live_socket(client, f"/ws/conversations/{conversation}", token) as customer:
            client.post(f"/api/escalations/{escalation['id']}/claim", headers=auth(kari))
            client.post(f"/api/escalations/{escalation['id']}/messages",
                        json={"text": "Jeg sletter samtalen nå."}, headers=auth(kari))
            response = client.post(f"/api/escalations/{escalation['id']}/erase", headers=auth(kari))
            assert response.status_code == 200
            # the customer, the bot's unavailability note, the agent joining, the agent
            assert response.json() | {"erased_at": None} == {
                "references": [escalation["reference"]], "requested_by": "agent",
                "erased_at": None, "messages": 4, "escalations": 1,
                "outbox_events": 3, "tracker_events": 5}
            read_until(customer, {"type": "message", "message": {
                "sender": "system", "text": notice("erased", "nb")}})
            read_until(customer, {"type": "status", "status": "closed"})
            read_until(agents, {"type": "escalation.erased", "escalation_id": escalation["id"],
                                "reference": escalation["reference"]})
        assert client.get(f"/api/conversations/{conversation}/messages",
                          headers=auth(token)).status_code == 404
        assert client.get(f"/api/escalations/{escalation['id']}",
                          headers=auth(kari)).status_code == 404
        assert escalation_of(client, kari, other)["status"] == "queued"

    assert count_events(tracker_db, conversation) == 0
    assert count_events(tracker_db, other) == 3
    database = Database(erasing_settings.database_url)
    with database.sessions() as session:
        assert session.get(Conversation, conversation) is None
        assert session.scalars(select(Message).where(Message.conversation_id == conversation)).all() == []
        assert session.scalars(select(Escalation)
                               .where(Escalation.conversation_id == conversation)).all() == []
        outbox = session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all()
        # the helpdesk is told which of its escalations to erase, and nothing else of it
        told = [event for event in outbox if event.type == "conversation.erased"]
        assert [(e.payload, e.conversation_id) for e in told] == [
            ({"references": [escalation["reference"]]}, None)]
        kept = json.dumps([event.payload for event in outbox])
        assert conversation not in kept and "slett alt om meg" not in kept
        assert {event.conversation_id for event in outbox} == {None, other}
        [record] = session.scalars(select(Erasure)).all()
        assert record.conversation_hash == hashlib.sha256(conversation.encode()).hexdigest()
        assert record.requested_by == "agent"
        assert record.agent_id == session.scalar(select(Agent.id).where(Agent.name == "Kari"))
    database.engine.dispose()


def test_a_late_hand_off_cannot_bring_an_erased_conversation_back(
        erasing_settings: Settings, tracker_db: Path) -> None:
    """A bot turn under way while the conversation is erased ends in a hook for it, or in
    tracker events written again: neither brings the conversation back."""
    with TestClient(create_app(erasing_settings)) as client:
        kari = add_agent(erasing_settings, "Kari")
        conversation, _, escalation = erasure_request(client, kari)
        client.post(f"/api/escalations/{escalation['id']}/claim", headers=auth(kari))
        assert client.post(f"/api/escalations/{escalation['id']}/erase",
                           headers=auth(kari)).status_code == 200
        late = post_hook(client, hook_body(conversation, reason="request_human"))
        assert late.status_code == 409 and "erased" in late.json()["detail"]
        assert client.get("/api/escalations", headers=auth(kari)).json() == []
    database = Database(erasing_settings.database_url)
    with database.sessions() as session:
        assert session.get(Conversation, conversation) is None
    database.engine.dispose()


class RewrittenByRasa(TrackerStore):
    """The tracker store as a bot turn under way sees it: its events come back once, after
    the first deletion (Rasa saves the turn's whole history when the table holds none)."""

    def __init__(self, url: str, path: Path, conversation: str) -> None:
        super().__init__(url)
        self.path, self.conversation, self.rewritten = path, conversation, False

    def erase(self, sender_id: str) -> int:
        erased = super().erase(sender_id)
        if not self.rewritten:
            add_events(self.path, self.conversation, 4, time.time())
            self.rewritten = True
        return erased


def test_tracker_events_written_again_during_an_erasure_are_erased_too(
        erasing_settings: Settings, tracker_db: Path) -> None:
    from api.__main__ import _database_with_outbox
    from api.services.erasure import Requester, erase

    with TestClient(create_app(erasing_settings)) as client:
        conversation, _ = start(client)
    add_events(tracker_db, conversation, 5, time.time())
    tracker = RewrittenByRasa(erasing_settings.tracker_store_url, tracker_db, conversation)
    database = _database_with_outbox(erasing_settings)
    with database.sessions() as session:
        record = erase(session, conversation, tracker, Requester.OPERATOR,
                       dt.datetime.now(dt.timezone.utc))
    database.engine.dispose()
    tracker.close()
    assert record is not None and record.tracker_events == 9
    assert count_events(tracker_db, conversation) == 0


def test_only_the_agent_who_claimed_an_erasure_request_can_confirm_it(
        erasing_settings: Settings) -> None:
    with TestClient(create_app(erasing_settings)) as client:
        kari, ole = add_agent(erasing_settings, "Kari"), add_agent(erasing_settings, "Ole")
        conversation, token, request = erasure_request(client, kari)
        plain, _ = start(client)
        post_hook(client, hook_body(plain))  # reason request_human
        person = escalation_of(client, kari, plain)
        erase = f"/api/escalations/{request['id']}/erase"

        assert client.post(erase).status_code == 401
        assert client.post(erase, headers=auth("not-a-token")).status_code == 401
        assert client.post("/api/escalations/987654/erase", headers=auth(kari)).status_code == 404
        unclaimed = client.post(erase, headers=auth(kari))
        assert unclaimed.status_code == 409 and "claim" in unclaimed.json()["detail"]
        client.post(f"/api/escalations/{person['id']}/claim", headers=auth(kari))
        not_a_request = client.post(f"/api/escalations/{person['id']}/erase", headers=auth(kari))
        assert not_a_request.status_code == 409
        assert "not an erasure request" in not_a_request.json()["detail"]
        client.post(f"/api/escalations/{request['id']}/claim", headers=auth(ole))
        assert client.post(erase, headers=auth(kari)).status_code == 409
        # refused: nothing was erased
        assert client.get(f"/api/conversations/{conversation}/messages",
                          headers=auth(token)).status_code == 200

        assert client.post(erase, headers=auth(ole)).status_code == 200
        assert client.post(erase, headers=auth(ole)).status_code == 404  # gone, not a 500
        assert escalation_of(client, kari, plain)["status"] == "with_agent"


def test_erasing_reaches_no_tracker_store_that_is_not_there(tmp_path: Path) -> None:
    missing = tmp_path / "rasa-never-started" / "trackers.db"
    assert TrackerStore(f"sqlite:///{missing}").erase("c_1") == 0
    assert not missing.exists()  # the service never creates Rasa's file
    without_table = tmp_path / "other.db"
    without_table.write_bytes(b"")
    assert TrackerStore(f"sqlite:///{without_table}").erase("c_1") == 0


def test_the_command_erases_by_id_or_reference_and_is_idempotent(
        erasing_settings: Settings, tracker_db: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "NORDHEM_DATABASE_URL": erasing_settings.database_url,
           "NORDHEM_TRACKER_STORE_URL": erasing_settings.tracker_store_url,
           "NORDHEM_WEBHOOK_URLS": ""}

    def cli(*words: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "api", *words], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)

    with TestClient(create_app(erasing_settings)) as client:
        kari = add_agent(erasing_settings, "Kari")
        conversation, token, escalation = erasure_request(client, kari)
        reference = escalation["reference"]
    add_events(tracker_db, conversation, 4, time.time())
    add_events(tracker_db, "rest-caller", 2, time.time())  # Rasa reached directly: only there

    unknown = cli("erase", "c_nosuch")
    assert unknown.returncode == 1 and "nothing to erase" in unknown.stderr

    by_reference = cli("erase", reference.lower())
    assert by_reference.returncode == 0, by_reference.stderr
    assert f"erased conversation {conversation}" in by_reference.stdout
    assert "4 tracker events" in by_reference.stdout and "1 escalations" in by_reference.stdout
    assert count_events(tracker_db, conversation) == 0

    for again in (conversation, reference):  # nothing left: said so, with when and by whom
        repeated = cli("erase", again)
        assert repeated.returncode == 0 and "nothing left" in repeated.stdout
        assert "(operator)" in repeated.stdout

    only_rasa = cli("erase", "rest-caller")
    assert only_rasa.returncode == 0 and "2 tracker events" in only_rasa.stdout
    assert count_events(tracker_db, "rest-caller") == 0

    listed = cli("erasures", "--conversation", conversation).stdout.strip().splitlines()
    assert len(listed) == 1 and reference in listed[0] and "operator" in listed[0]
    assert len(cli("erasures").stdout.strip().splitlines()) == 2


CUSTOMER_ASKS = {"nb": "jeg vil at dere sletter alle opplysningene dere har om meg",
                 "da": "jeg vil have slettet alle mine oplysninger hos jer",
                 "sv": "jag vill att ni raderar alla mina personuppgifter"}
YES = {"nb": "ja takk", "da": "ja tak", "sv": "ja tack"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str]]:
    """The real Rasa, action server and service, and an agent's token."""
    with running_stack(Path(tmp_path_factory.mktemp("erasure"))) as running:
        yield running, add_agent(make_settings(running.database_url), "Kari")


def escalation_in_stack(api: str, agent_token: str, conversation: str) -> dict[str, Any]:
    [item] = [e for e in httpx.get(f"{api}/api/escalations", headers=auth(agent_token)).json()
              if e["conversation_id"] == conversation]
    return item


@pytest.mark.server
@pytest.mark.parametrize("language", ["nb", "da", "sv"])
def test_a_customer_asks_the_bot_to_delete_their_data_and_an_agent_confirms(
        stack: tuple[Stack, str], language: str) -> None:
    """The real bot answers and offers to pass the request on; a yes hands it over; the
    agent confirms; Rasa's own tracker store no longer holds the conversation."""
    running, agent_token = stack
    api = running.api
    started = httpx.post(f"{api}/api/conversations", json={"language": language}).json()
    conversation, customer = started["conversation_id"], auth(started["customer_token"])
    path = f"{api}/api/conversations/{conversation}/messages"
    answer = httpx.post(path, json={"text": CUSTOMER_ASKS[language]}, headers=customer,
                        timeout=60).json()
    texts = load_content()
    assert answer["status"] == "bot"  # the customer chooses: the answer, and the offer
    assert texts["delete_data"][language].strip() in answer["messages"][0]["text"]
    assert answer["messages"][-1]["text"] == texts["offer_erasure"][language].strip()
    reply = httpx.post(path, json={"text": YES[language]}, headers=customer, timeout=60).json()
    assert reply["status"] == "queued"
    said = [message["text"] for message in reply["messages"]]
    assert said[0] == texts["handoff_erasure_request"][language].strip()
    assert reply["escalation"]["reference"] in said[-1]
    assert count_events(running.bot.tracker_db, conversation) > 0
    escalation = escalation_in_stack(api, agent_token, conversation)
    assert escalation["reason"] == "erasure_request"

    ws_base = api.replace("http", "ws")
    with live(f"{ws_base}/ws/conversations/{conversation}", started["customer_token"]) as socket:
        httpx.post(f"{api}/api/escalations/{escalation['id']}/claim", headers=auth(agent_token))
        erased = httpx.post(f"{api}/api/escalations/{escalation['id']}/erase",
                            headers=auth(agent_token), timeout=30)
        assert erased.status_code == 200 and erased.json()["tracker_events"] > 0
        receive_until(socket, lambda e: e["type"] == "message"
                      and e["message"]["text"] == notice("erased", language))
    assert count_events(running.bot.tracker_db, conversation) == 0
    assert httpx.get(f"{api}/api/conversations/{conversation}/messages",
                     headers=customer).status_code == 404
