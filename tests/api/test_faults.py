"""Fault injection: parts of the product killed, stopped and restarted under real traffic.

Each test asserts that no message and no escalation is lost or duplicated, and that the
customer is told something honest meanwhile. The parts are real processes (Rasa, the action
server, the service, a helpdesk, a PostgreSQL cluster), killed with SIGKILL as in a crash;
every wait is on state, with a deadline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.db import Database
from api.models import OutboxEvent
from core.content import load_content, notice
from core.vocabulary import OutboxStatus
from tests.support.api import HOOK_SECRET, add_agent, auth, make_settings
from tests.support.faults import (
    WEBHOOK_SECRET,
    Breakable,
    Helpdesk,
    breakable_stack,
    service_part,
    wait_for,
)
from tests.support.postgres import throwaway_cluster
from tests.support.servers import free_port

PERSON = "/request_human"


def customer_texts(history: dict[str, Any]) -> list[str]:
    return [m["text"] for m in history["messages"] if m["sender"] == "customer"]


def assert_once_in_order(history: dict[str, Any], sent: list[str]) -> None:
    """Every message the customer sent is there once, in the order sent, and no message
    of anyone is there twice."""
    ids = [m["id"] for m in history["messages"]]
    assert ids == sorted(set(ids)), "a message is duplicated or out of order"
    assert customer_texts(history) == sent


# --- the bot down, in the service alone (Rasa at a port nobody listens on) ------------------

@pytest.mark.parametrize("language", ["nb", "da", "sv"])
def test_with_the_bot_down_the_message_is_kept_and_a_person_offered_in_the_language(
        client: TestClient, language: str) -> None:
    started = client.post("/api/conversations", json={"language": language}).json()
    url = f"/api/conversations/{started['conversation_id']}/messages"
    headers = auth(started["customer_token"])
    reply = client.post(url, json={"text": "hvor er pakken?"}, headers=headers).json()
    [note] = reply["messages"]
    assert note["sender"] == "system" and reply["status"] == "bot"
    assert note["text"] == notice("bot_unavailable", language)
    assert note["buttons"] == [{"title": load_content()["button_person"][language],
                                "payload": PERSON}]
    history = client.get(url, headers=headers).json()
    assert [m["sender"] for m in history["messages"]] == ["customer", "system"]
    assert history["messages"][1]["buttons"] == note["buttons"]  # still there after a reload
    assert_once_in_order(history, ["hvor er pakken?"])


def test_asking_for_a_person_while_the_bot_is_down_hands_over_without_it(
        client: TestClient, agent_token: str) -> None:
    started = client.post("/api/conversations", json={"language": "sv"}).json()
    url = f"/api/conversations/{started['conversation_id']}/messages"
    headers = auth(started["customer_token"])
    client.post(url, json={"text": "var är mitt paket? order 10483921"}, headers=headers)
    reply = client.post(url, json={"payload": PERSON}, headers=headers).json()
    assert reply["status"] == "queued"
    reference = reply["escalation"]["reference"]
    [note] = reply["messages"]
    assert note["sender"] == "system" and reference in note["text"]
    assert note["text"] == notice("handed_over_without_bot", "sv", reference=reference)

    [queued] = client.get("/api/escalations", headers=auth(agent_token)).json()
    detail = client.get(f"/api/escalations/{queued['id']}", headers=auth(agent_token)).json()
    assert detail["reference"] == reference and detail["reason"] == "request_human"
    assert detail["language"] == "sv" and detail["summary"]
    assert [line["text"] for line in detail["transcript"]] == [
        "var är mitt paket? order 10483921", "[request_human]"]

    # asked again, or written to: the same escalation, the agent gets it
    again = client.post(url, json={"payload": PERSON}, headers=headers).json()
    more = client.post(url, json={"text": "hallå?"}, headers=headers).json()
    assert again["status"] == more["status"] == "queued" and more["messages"] == []
    assert len(client.get("/api/escalations", headers=auth(agent_token)).json()) == 1
    assert_once_in_order(client.get(url, headers=headers).json(),
                         ["var är mitt paket? order 10483921", PERSON, PERSON, "hallå?"])


# --- the whole product, each part a process that the tests kill -----------------------------

@pytest.fixture(scope="module")
def breakable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Breakable]:
    with breakable_stack(Path(tmp_path_factory.mktemp("faults"))) as stack:
        yield stack


@pytest.fixture
def stack(breakable: Breakable) -> Iterator[Breakable]:
    """All parts up before the test; afterwards every webhook of the run was delivered
    once, in order."""
    breakable.ensure_all_up()
    if breakable.helpdesk.server is None:
        breakable.helpdesk.start()
    yield breakable
    assert_webhooks_delivered_once_in_order(breakable.database_url, breakable.helpdesk)


@pytest.fixture(scope="module")
def agent(breakable: Breakable) -> dict[str, str]:
    return auth(add_agent(make_settings(breakable.database_url), "Kari"))


def outbox(database_url: str) -> list[OutboxEvent]:
    database = Database(database_url)
    try:
        with database.sessions() as session:
            return list(session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))
    finally:
        database.engine.dispose()


def assert_webhooks_delivered_once_in_order(database_url: str, helpdesk: Helpdesk) -> None:
    wait_for(lambda: all(e.status == OutboxStatus.DELIVERED for e in outbox(database_url)),
             seconds=60, what="every webhook delivered")
    written = [e.id for e in outbox(database_url)]
    received = [event["id"] for event in helpdesk.received]
    assert received == written  # each once, in the order they happened


class Customer:
    """One customer's conversation through the service's public contract."""

    def __init__(self, api: str, language: str = "nb") -> None:
        self.api = api
        started = httpx.post(f"{api}/api/conversations", json={"language": language}).json()
        self.id = started["conversation_id"]
        self.headers = auth(started["customer_token"])
        self.sent: list[str] = []

    def say(self, text: Optional[str] = None, payload: Optional[str] = None) -> dict[str, Any]:
        body = {"payload": payload} if payload else {"text": text}
        response = httpx.post(f"{self.api}/api/conversations/{self.id}/messages", json=body,
                              headers=self.headers, timeout=60)
        assert response.status_code == 200, response.text
        self.sent.append(payload or text or "")
        return response.json()

    def history(self) -> dict[str, Any]:
        return httpx.get(f"{self.api}/api/conversations/{self.id}/messages",
                         headers=self.headers, timeout=30).json()


def bot_answered(reply: dict[str, Any]) -> bool:
    return bool(reply["messages"]) and all(m["sender"] == "bot" for m in reply["messages"])


def told_bot_is_down(reply: dict[str, Any], language: str = "nb") -> bool:
    return [(m["sender"], m["text"]) for m in reply["messages"]] == [
        ("system", notice("bot_unavailable", language))]


def escalations_of(stack: Breakable, agent: dict[str, str], conversation: str,
                   status: str = "open") -> list[dict[str, Any]]:
    listed = httpx.get(f"{stack.api_url}/api/escalations", params={"status": status},
                       headers=agent).json()
    return [e for e in listed if e["conversation_id"] == conversation]


def hand_off_through_the_bot(stack: Breakable, customer: Customer) -> dict[str, Any]:
    reply = customer.say("jeg vil snakke med et menneske")
    assert reply["status"] == "queued", reply
    assert reply["escalation"]["reference"] in reply["messages"][-1]["text"]
    return reply


@pytest.mark.server
def test_rasa_killed_mid_conversation(stack: Breakable) -> None:
    customer = Customer(stack.api_url)
    assert bot_answered(customer.say("hva koster frakten?"))
    stack.rasa.kill()
    assert stack.health() == {"status": "degraded", "database": True, "rasa": False,
                              "action_server": True}
    assert told_bot_is_down(customer.say("hvor lang tid tar leveringen?"))
    assert_once_in_order(customer.history(), customer.sent)

    stack.rasa.start()
    stack.rasa.wait_until_up()
    wait_for(lambda: (stack.health() or {}).get("status") == "ok", what="healthy again")
    assert bot_answered(customer.say("hvor lang tid tar leveringen?"))
    history = customer.history()
    assert_once_in_order(history, customer.sent)
    # every customer message got an answer or the honest notice, none of them twice
    senders = [m["sender"] for m in history["messages"]]
    assert senders.count("system") == 1
    assert all(after != "customer" for before, after in zip(senders, senders[1:], strict=False)
               if before == "customer") and senders[-1] != "customer"


@pytest.mark.server
def test_rasa_killed_mid_escalation(stack: Breakable, agent: dict[str, str]) -> None:
    customer = Customer(stack.api_url)
    hand_off_through_the_bot(stack, customer)
    stack.rasa.kill()
    # while a person has it, the bot is not needed: nothing is lost, nobody is told otherwise
    waiting = customer.say("er det noen der?")
    assert waiting["status"] == "queued" and waiting["messages"] == []
    [escalation] = escalations_of(stack, agent, customer.id)
    base = f"{stack.api_url}/api/escalations/{escalation['id']}"
    assert httpx.post(f"{base}/claim", headers=agent).status_code == 200
    assert httpx.post(f"{base}/messages", json={"text": "Hei, Kari her."},
                      headers=agent).status_code == 201
    resolved = httpx.post(f"{base}/resolve", json={"return_to_bot": True}, headers=agent,
                          timeout=30)
    assert resolved.status_code == 200  # the bot being down does not hold up the agent
    assert told_bot_is_down(customer.say("hva koster frakten?"))

    stack.rasa.start()
    stack.rasa.wait_until_up()
    assert bot_answered(customer.say("hva koster frakten?"))
    history = customer.history()
    assert_once_in_order(history, customer.sent)
    assert [m["text"] for m in history["messages"] if m["sender"] == "agent"] == ["Hei, Kari her."]
    assert escalations_of(stack, agent, customer.id) == []
    assert len(escalations_of(stack, agent, customer.id, "closed")) == 1


@pytest.mark.server
def test_action_server_killed_mid_conversation(stack: Breakable, agent: dict[str, str]) -> None:
    customer = Customer(stack.api_url)
    assert bot_answered(customer.say("hei"))
    stack.actions.kill()
    assert stack.health() == {"status": "degraded", "database": True, "rasa": True,
                              "action_server": False}
    # the hand-off is an action: Rasa answers nothing, the service says what happens
    down = customer.say("jeg vil snakke med et menneske")
    assert told_bot_is_down(down) and down["messages"][0]["buttons"][0]["payload"] == PERSON
    handed = customer.say(payload=PERSON)  # the notice's button
    assert handed["status"] == "queued"
    reference = handed["escalation"]["reference"]
    assert reference in handed["messages"][0]["text"]
    [escalation] = escalations_of(stack, agent, customer.id)
    assert escalation["reference"] == reference

    stack.actions.start()
    stack.actions.wait_until_up()
    wait_for(lambda: (stack.health() or {}).get("status") == "ok", what="healthy again")
    other = Customer(stack.api_url)
    hand_off_through_the_bot(stack, other)  # the bot's own hand-off works again
    assert len(escalations_of(stack, agent, other.id)) == 1
    assert len(escalations_of(stack, agent, customer.id)) == 1
    assert_once_in_order(customer.history(), customer.sent)
    assert_once_in_order(other.history(), other.sent)


@pytest.mark.server
def test_action_server_killed_mid_escalation(stack: Breakable, agent: dict[str, str]) -> None:
    customer = Customer(stack.api_url)
    hand_off_through_the_bot(stack, customer)
    stack.actions.kill()
    [escalation] = escalations_of(stack, agent, customer.id)
    base = f"{stack.api_url}/api/escalations/{escalation['id']}"
    httpx.post(f"{base}/claim", headers=agent)
    customer.say("ordren er 10483921")
    httpx.post(f"{base}/messages", json={"text": "Takk, jeg ser på den."}, headers=agent)
    httpx.post(f"{base}/resolve", json={"return_to_bot": True}, headers=agent, timeout=30)
    # an answer that needs no action still comes; one that needs the action server is honest
    assert bot_answered(customer.say("hva koster frakten?"))
    assert told_bot_is_down(customer.say("jeg vil snakke med et menneske"))

    stack.actions.start()
    stack.actions.wait_until_up()
    hand_off_through_the_bot(stack, customer)
    assert len(escalations_of(stack, agent, customer.id)) == 1
    assert len(escalations_of(stack, agent, customer.id, "closed")) == 1
    assert_once_in_order(customer.history(), customer.sent)


@pytest.mark.server
def test_service_killed_mid_escalation(stack: Breakable, agent: dict[str, str]) -> None:
    customer = Customer(stack.api_url)
    hand_off_through_the_bot(stack, customer)
    [escalation] = escalations_of(stack, agent, customer.id)
    base = f"{stack.api_url}/api/escalations/{escalation['id']}"
    httpx.post(f"{base}/claim", headers=agent)
    customer.say("ordren er 10483921")
    httpx.post(f"{base}/messages", json={"text": "Jeg sjekker."}, headers=agent)
    before = customer.history()

    stack.api.kill()
    stack.api.start()
    stack.api.wait_until_up()

    assert customer.history()["messages"] == before["messages"]  # everything there, once
    [again] = escalations_of(stack, agent, customer.id)
    assert again["id"] == escalation["id"] and again["status"] == "with_agent"
    assert again["agent_name"] == "Kari"
    assert httpx.post(f"{base}/messages", json={"text": "Den kommer i morgen."},
                      headers=agent).status_code == 201
    customer.say("takk!")
    history = customer.history()
    assert_once_in_order(history, customer.sent)
    assert [m["text"] for m in history["messages"] if m["sender"] == "agent"] == [
        "Jeg sjekker.", "Den kommer i morgen."]


@pytest.mark.server
def test_service_killed_mid_conversation(stack: Breakable) -> None:
    customer = Customer(stack.api_url)
    assert bot_answered(customer.say("hva koster frakten?"))
    before = customer.history()
    stack.api.kill()
    stack.api.start()
    stack.api.wait_until_up()
    assert customer.history()["messages"] == before["messages"]
    assert bot_answered(customer.say("hvor lang tid tar leveringen?"))
    assert_once_in_order(customer.history(), customer.sent)


@pytest.mark.server
def test_helpdesk_down_for_a_while_then_back(stack: Breakable, agent: dict[str, str]) -> None:
    stack.helpdesk.stop()
    customer = Customer(stack.api_url)
    hand_off_through_the_bot(stack, customer)
    [escalation] = escalations_of(stack, agent, customer.id)
    base = f"{stack.api_url}/api/escalations/{escalation['id']}"
    customer.say("er det noen der?")
    httpx.post(f"{base}/claim", headers=agent)
    httpx.post(f"{base}/messages", json={"text": "Ja, her."}, headers=agent)
    httpx.post(f"{base}/resolve", json={"return_to_bot": False}, headers=agent, timeout=30)
    mine = [e for e in outbox(stack.database_url) if e.status == OutboxStatus.PENDING]
    assert [e.type for e in mine] == ["escalation.created", "message.created",
                                      "escalation.claimed", "message.created",
                                      "escalation.resolved"]
    # down for a while: the first event is retried with back-off, the others wait behind it
    wait_for(lambda: outbox(stack.database_url)[-5].attempts >= 2, seconds=60,
             what="a second failed attempt")
    assert stack.health()["status"] == "ok"  # the helpdesk is no part of the service's health

    stack.helpdesk.start()
    # the fixture checks that every event arrives once, in order
    assert_webhooks_delivered_once_in_order(stack.database_url, stack.helpdesk)
    types = [e["type"] for e in stack.helpdesk.received
             if e["data"].get("reference") == escalation["reference"]]
    assert types == ["escalation.created", "message.created", "escalation.claimed",
                          "message.created", "escalation.resolved"]


# --- PostgreSQL restarted under the service -------------------------------------------------

def test_postgres_restarted_under_the_service(tmp_path: Path) -> None:
    """A throwaway cluster (never the shared one on 5432), stopped and started under a running
    service: meanwhile a clear 503 and /health says the database is down; afterwards the
    service carries on without a restart of its own, and nothing is lost or doubled."""
    helpdesk = Helpdesk()
    helpdesk.start()
    with throwaway_cluster() as cluster:
        port = free_port()
        api = f"http://127.0.0.1:{port}"
        service = service_part(tmp_path, port, {
            "NORDHEM_DATABASE_URL": cluster.url, "NORDHEM_RASA_URL": "http://127.0.0.1:9",
            "NORDHEM_ACTIONS_URL": "http://127.0.0.1:9", "NORDHEM_HOOK_SECRET": HOOK_SECRET,
            "NORDHEM_WEBHOOK_URLS": helpdesk.url, "NORDHEM_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "NORDHEM_CORS_ORIGINS": api})
        service.start()
        try:
            service.wait_until_up(120)
            agent = auth(add_agent(make_settings(cluster.url), "Kari"))
            customer = Customer(api)
            customer.say("hvor er pakken?")  # the bot is down here: the honest notice
            customer.say(payload=PERSON)  # handed over by the service
            [escalation] = httpx.get(f"{api}/api/escalations", headers=agent).json()
            base = f"{api}/api/escalations/{escalation['id']}"
            assert httpx.post(f"{base}/claim", headers=agent).status_code == 200
            customer.say("før omstart")
            before = customer.history()

            cluster.stop()
            refused = httpx.post(f"{api}/api/conversations/{customer.id}/messages",
                                 json={"text": "under omstart"}, headers=customer.headers,
                                 timeout=30)
            assert refused.status_code == 503 and refused.headers["retry-after"]
            assert "database" in refused.json()["detail"]
            assert httpx.post(f"{base}/messages", json={"text": "under omstart"},
                              headers=agent).status_code == 503
            down = httpx.get(f"{api}/health", timeout=30)
            assert down.status_code == 503 and down.json()["database"] is False

            cluster.start()
            wait_for(lambda: httpx.get(f"{api}/health", timeout=30).json()["database"],
                     what="the service sees the database again")
            assert service.running()  # carried on; not restarted
            # the refused messages were not half-stored
            assert customer.history()["messages"] == before["messages"]
            customer.say("etter omstart")
            assert httpx.post(f"{base}/messages", json={"text": "Hei igjen."},
                              headers=agent).status_code == 201
            history = customer.history()
            assert_once_in_order(history, customer.sent)
            assert [m["text"] for m in history["messages"] if m["sender"] == "agent"] == [
                "Hei igjen."]
            assert len(httpx.get(f"{api}/api/escalations", headers=agent).json()) == 1
            assert_webhooks_delivered_once_in_order(cluster.url, helpdesk)
        finally:
            service.stop()
            helpdesk.stop()

