"""Routing by language: each agent is offered the escalations of the languages they take,
within their capacity; places are counted per language queue; the customer is told truthfully
who is there; and auto-assignment gives the next matching escalation to an online agent with
room, race-free."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.errors import ServiceError
from api.main import create_app
from api.models import Agent, Escalation, Message, Presence
from api.services import escalations
from api.settings import Settings
from core.vocabulary import EscalationStatus
from tests.api.test_estimates import served
from tests.support.api import add_agent, auth, hook_body, make_settings, post_hook, start
from tests.support.live import live_socket, next_of_type

TUESDAY_MORNING = dt.datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Europe/Oslo"))
ONLINE = {"presence": Presence.ONLINE}


def escalate(client: TestClient, language: str = "nb", **overrides: Any) -> dict[str, Any]:
    """A conversation in `language` handed off: its receipt, with conversation and token."""
    conversation, token = start(client, language)
    response = post_hook(client, hook_body(conversation, language=language, **overrides))
    assert response.status_code == 201, response.text
    return {**response.json(), "conversation": conversation, "token": token}


def queue(client: TestClient, token: str, status: str = "open") -> list[dict[str, Any]]:
    response = client.get("/api/escalations", params={"status": status}, headers=auth(token))
    assert response.status_code == 200, response.text
    return response.json()


def references(client: TestClient, token: str, status: str = "open") -> set[str]:
    return {item["reference"] for item in queue(client, token, status)}


def escalation_id(client: TestClient, reference: str) -> int:
    with client.app.state.hub.database.sessions() as session:
        return escalations.by_reference(session, reference).id


def claim(client: TestClient, token: str, reference: str) -> Any:
    return client.post(f"/api/escalations/{escalation_id(client, reference)}/claim",
                       headers=auth(token))


def conversation_state(client: TestClient, receipt: dict[str, Any]) -> dict[str, Any]:
    response = client.get(f"/api/conversations/{receipt['conversation']}/messages",
                          headers=auth(receipt["token"]))
    assert response.status_code == 200
    return response.json()


# ---------- one queue per language ----------

def test_each_agent_is_offered_only_the_escalations_of_their_languages(
        client: TestClient, settings: Settings) -> None:
    norwegian = add_agent(settings, "Kari", languages=["nb"])
    danish = add_agent(settings, "Mette", languages=["da", "en"])
    swedish = add_agent(settings, "Sven", languages=["sv"])
    by_language = {language: escalate(client, language)["reference"]
                   for language in ("nb", "da", "sv")}
    assert references(client, norwegian) == {by_language["nb"]}
    assert references(client, danish) == {by_language["da"]}
    assert references(client, swedish, "queued") == {by_language["sv"]}

    forbidden = claim(client, swedish, by_language["da"])
    assert forbidden.status_code == 403
    assert "da" in forbidden.json()["detail"] and "sv" in forbidden.json()["detail"]
    assert references(client, danish, "queued") == {by_language["da"]}  # still waiting
    assert claim(client, danish, by_language["da"]).status_code == 200
    # the Danish one being handled is seen by Danish agents only
    assert references(client, danish, "with_agent") == {by_language["da"]}
    assert references(client, swedish, "with_agent") == set()


def test_an_escalation_held_stays_with_its_agent_when_their_languages_change(
        client: TestClient, settings: Settings) -> None:
    admin = add_agent(settings, "Admin", is_admin=True)
    kari = add_agent(settings, "Kari", languages=["nb", "da"])
    danish = escalate(client, "da")["reference"]
    claim(client, kari, danish)
    kari_id = client.get("/api/agents/me", headers=auth(kari)).json()["id"]
    client.patch(f"/api/agents/{kari_id}", json={"languages": ["nb"]}, headers=auth(admin))
    assert references(client, kari) == {danish}
    later = escalate(client, "da")["reference"]
    assert later not in references(client, kari)


def test_a_fallback_lets_danish_agents_take_norwegian_escalations(database_url: str) -> None:
    settings = make_settings(database_url, language_fallback="nb:da")
    with TestClient(create_app(settings)) as client:
        danish = add_agent(settings, "Mette", languages=["da"])
        norwegian = add_agent(settings, "Kari", languages=["nb"])
        nb_ref, da_ref = escalate(client, "nb")["reference"], escalate(client, "da")["reference"]
        assert references(client, danish) == {nb_ref, da_ref}
        assert references(client, norwegian) == {nb_ref}  # the setting goes one way only
        assert claim(client, norwegian, da_ref).status_code == 403
        assert claim(client, danish, nb_ref).status_code == 200


def test_the_queue_is_urgent_then_high_then_oldest_within_the_languages(
        client: TestClient, settings: Settings) -> None:
    both = add_agent(settings, "Kari", languages=["nb", "da"])
    escalate(client, "nb", priority="normal", summary="first normal")
    escalate(client, "sv", priority="urgent", summary="urgent in Swedish")
    escalate(client, "da", priority="high", summary="high")
    escalate(client, "nb", priority="normal", summary="second normal")
    escalate(client, "da", priority="urgent", summary="urgent")
    assert [item["bot_summary"] for item in queue(client, both)] == [
        "urgent", "high", "first normal", "second normal"]


# ---------- capacity and presence ----------

def test_an_agent_at_capacity_is_offered_nothing_and_cannot_claim(
        client: TestClient, settings: Settings) -> None:
    kari = add_agent(settings, "Kari", languages=["nb"], max_conversations=1)
    first, second = escalate(client)["reference"], escalate(client)["reference"]
    assert claim(client, kari, first).status_code == 200
    assert references(client, kari) == {first}  # the one held, no offers
    assert references(client, kari, "queued") == set()
    refused = claim(client, kari, second)
    assert refused.status_code == 409 and "as many as you may (1)" in refused.json()["detail"]
    client.post(f"/api/escalations/{escalation_id(client, first)}/resolve", json={},
                headers=auth(kari))
    assert references(client, kari) == {second}
    assert claim(client, kari, second).status_code == 200


def test_an_away_or_offline_agent_may_still_claim(client: TestClient, settings: Settings) -> None:
    away = add_agent(settings, "Kari", presence=Presence.AWAY)
    offline = add_agent(settings, "Ola")
    first, second = escalate(client)["reference"], escalate(client)["reference"]
    assert claim(client, away, first).status_code == 200
    assert claim(client, offline, second).status_code == 200


def test_one_agent_claiming_at_once_never_exceeds_their_capacity(database_url: str) -> None:
    """Ten claims by an agent who may hold two, at the same moment, each in its own thread
    and session: two succeed."""
    settings = make_settings(database_url)
    with TestClient(create_app(settings)) as client:
        add_agent(settings, "Kari", max_conversations=2)
        ids = [escalation_id(client, escalate(client)["reference"]) for _ in range(10)]
        hub = client.app.state.hub
        barrier, outcomes = threading.Barrier(len(ids)), []

        def take(target: int) -> None:
            with hub.database.sessions() as session:
                kari = session.scalars(select(Agent)).one()
                barrier.wait()
                try:
                    escalations.claim(session, target, kari)
                    outcomes.append("claimed")
                except ServiceError as refusal:
                    outcomes.append(str(refusal.status_code))

        threads = [threading.Thread(target=take, args=(target,)) for target in ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["409"] * 8 + ["claimed"] * 2


# ---------- places and what the customer is told ----------

def test_the_place_is_counted_in_the_language_queue(client: TestClient) -> None:
    first_nb = escalate(client, "nb")
    first_da = escalate(client, "da")
    second_nb = escalate(client, "nb")
    urgent_da = escalate(client, "da", priority="urgent")
    assert [r["position"] for r in (first_nb, first_da, second_nb, urgent_da)] == [1, 1, 2, 1]
    assert conversation_state(client, first_da)["escalation"]["position"] == 2
    assert conversation_state(client, second_nb)["escalation"]["position"] == 2


def test_a_waiting_customer_hears_their_new_place_in_their_language_queue(
        client: TestClient, settings: Settings) -> None:
    kari = add_agent(settings, "Kari", languages=["nb", "da"])
    first_nb = escalate(client, "nb")
    escalate(client, "da")
    second_nb = escalate(client, "nb")
    with live_socket(client, f"/ws/conversations/{second_nb['conversation']}",
                     second_nb["token"]) as customer:
        escalate(client, "da")  # another language's queue: still second
        assert next_of_type(customer, "queue")["escalation"]["position"] == 2
        claim(client, kari, first_nb["reference"])
        assert next_of_type(customer, "queue")["escalation"]["position"] == 1


@pytest.fixture
def morning_client(settings: Settings) -> Iterator[TestClient]:
    """Customer service is open; in the Norwegian and the Swedish queue, six escalations
    were taken lately, one every two minutes (each queue's wait rests on its own rate)."""
    served(settings, [2, 4, 6, 8, 10, 12], TUESDAY_MORNING)
    served(settings, [2, 4, 6, 8, 10, 12], TUESDAY_MORNING, language="sv")
    with TestClient(create_app(settings, clock=lambda: TUESDAY_MORNING)) as client:
        yield client


def test_with_nobody_online_for_the_language_the_receipt_says_so_and_gives_no_wait(
        morning_client: TestClient, settings: Settings) -> None:
    add_agent(settings, "Sven", languages=["sv"], **ONLINE)
    add_agent(settings, "Kari", languages=["nb"], presence=Presence.AWAY)
    add_agent(settings, "Ola", languages=["nb"], active=False, **ONLINE)
    norwegian = escalate(morning_client, "nb")
    assert (norwegian["agents_online"], norwegian["agents_available"]) == (0, 0)
    assert norwegian["eta_minutes"] is None and norwegian["position"] == 1
    assert norwegian["open_now"] is True
    swedish = escalate(morning_client, "sv")
    assert (swedish["agents_online"], swedish["agents_available"]) == (1, 1)
    assert swedish["eta_minutes"] is not None


def test_an_online_agent_at_capacity_is_online_but_not_available(
        morning_client: TestClient, settings: Settings) -> None:
    kari = add_agent(settings, "Kari", languages=["nb"], max_conversations=1, **ONLINE)
    claim(morning_client, kari, escalate(morning_client, "nb")["reference"])
    waiting = escalate(morning_client, "nb")
    assert (waiting["agents_online"], waiting["agents_available"]) == (1, 0)
    assert waiting["eta_minutes"] is not None  # someone is there, and frees up at the rate


def test_the_fallback_counts_the_other_languages_agents_for_the_customer(
        database_url: str) -> None:
    settings = make_settings(database_url, language_fallback="nb:da")
    with TestClient(create_app(settings)) as client:
        add_agent(settings, "Mette", languages=["da"], **ONLINE)
        assert escalate(client, "nb")["agents_online"] == 1
        assert escalate(client, "sv")["agents_online"] == 0


def test_a_console_connected_is_an_agent_online_for_their_languages(
        client: TestClient, settings: Settings) -> None:
    kari = add_agent(settings, "Kari", languages=["da"])
    with live_socket(client, "/ws/agents", kari):
        assert escalate(client, "da")["agents_available"] == 1
        assert escalate(client, "nb")["agents_available"] == 0


# ---------- auto-assignment ----------

@pytest.fixture
def assigning(database_url: str) -> Iterator[tuple[TestClient, Settings]]:
    settings = make_settings(database_url, auto_assign=True)
    with TestClient(create_app(settings)) as client:
        yield client, settings


def holder(client: TestClient, reference: str) -> str | None:
    with client.app.state.hub.database.sessions() as session:
        escalation = escalations.by_reference(session, reference)
        return escalation.agent.name if escalation.agent else None


def test_a_new_escalation_goes_to_an_online_agent_of_its_language(
        assigning: tuple[TestClient, Settings]) -> None:
    client, settings = assigning
    add_agent(settings, "Sven", languages=["sv"], **ONLINE)
    add_agent(settings, "Mette", languages=["da"], **ONLINE)
    mette_away = add_agent(settings, "Maja", languages=["da"], presence=Presence.AWAY)
    danish = escalate(client, "da")
    assert holder(client, danish["reference"]) == "Mette"
    assert danish["position"] is None  # no longer waiting: the bot names Mette instead
    assert danish["agent_name"] == "Mette"
    state = conversation_state(client, danish)
    assert state["status"] == "with_agent"
    assert state["messages"][-1]["sender"] == "system"
    assert "Mette" in state["messages"][-1]["text"]
    assert references(client, mette_away, "queued") == set()


def test_nobody_online_for_the_language_leaves_it_waiting_until_someone_comes_online(
        assigning: tuple[TestClient, Settings]) -> None:
    client, settings = assigning
    add_agent(settings, "Sven", languages=["sv"], **ONLINE)
    kari = add_agent(settings, "Kari", languages=["nb"], presence=Presence.AWAY)
    norwegian = escalate(client, "nb")
    assert holder(client, norwegian["reference"]) is None
    assert norwegian["agents_online"] == 0 and norwegian["position"] == 1
    client.put("/api/agents/me/presence", json={"presence": "online"}, headers=auth(kari))
    assert holder(client, norwegian["reference"]) == "Kari"


def test_an_agent_at_capacity_gets_the_next_one_when_they_resolve(
        assigning: tuple[TestClient, Settings]) -> None:
    client, settings = assigning
    kari = add_agent(settings, "Kari", languages=["nb"], max_conversations=1, **ONLINE)
    first = escalate(client, "nb")
    normal = escalate(client, "nb", priority="normal")
    urgent = escalate(client, "nb", priority="urgent")
    assert holder(client, first["reference"]) == "Kari"
    assert holder(client, urgent["reference"]) is None and urgent["position"] == 1
    client.post(f"/api/escalations/{escalation_id(client, first['reference'])}/resolve",
                json={}, headers=auth(kari))
    assert holder(client, urgent["reference"]) == "Kari"  # urgent first, not the oldest
    assert holder(client, normal["reference"]) is None


def test_the_agent_with_fewest_open_conversations_is_given_the_next(
        assigning: tuple[TestClient, Settings]) -> None:
    client, settings = assigning
    kari = add_agent(settings, "Kari", languages=["nb"], max_conversations=5)
    claim(client, kari, escalate(client, "nb")["reference"])
    client.put("/api/agents/me/presence", json={"presence": "online"}, headers=auth(kari))
    add_agent(settings, "Ola", languages=["nb"], max_conversations=5, **ONLINE)
    assert holder(client, escalate(client, "nb")["reference"]) == "Ola"  # Kari holds one
    # one each: Kari, whose last conversation is older, is next
    assert holder(client, escalate(client, "nb")["reference"]) == "Kari"


def test_opening_the_console_assigns_the_waiting_escalations_and_tells_the_console(
        assigning: tuple[TestClient, Settings]) -> None:
    client, settings = assigning
    kari = add_agent(settings, "Kari", languages=["nb"], max_conversations=2)
    waiting = [escalate(client, "nb")["reference"] for _ in range(3)]
    with live_socket(client, "/ws/agents", kari) as console:
        claimed = [next_of_type(console, "escalation.claimed")["escalation"] for _ in range(2)]
    assert {item["agent_name"] for item in claimed} == {"Kari"}
    assert [item["reference"] for item in claimed] == waiting[:2]
    assert holder(client, waiting[2]) is None


def test_auto_assignment_racing_claims_gives_no_escalation_twice_and_no_agent_too_many(
        assigning: tuple[TestClient, Settings]) -> None:
    """Auto-assignment in four threads while two agents claim everything they see."""
    client, settings = assigning
    hub = client.app.state.hub
    for name in ("Kari", "Ola", "Mette"):
        add_agent(settings, name, languages=["nb"], max_conversations=2)
    for _ in range(8):
        escalate(client, "nb")
    with hub.database.sessions() as session:
        for agent in session.scalars(select(Agent)):
            agent.presence = Presence.ONLINE
        session.commit()
        ids = list(session.scalars(select(Escalation.id)))
        claimers = list(session.scalars(select(Agent.id).where(Agent.name != "Mette")))
    barrier = threading.Barrier(4 + len(claimers))

    def assign() -> None:
        barrier.wait()
        escalations.auto_assign(hub)

    def claim_all(agent_id: int) -> None:
        with hub.database.sessions() as session:
            agent = session.get_one(Agent, agent_id)
            barrier.wait()
            for target in ids:
                try:
                    escalations.claim(session, target, agent)
                except ServiceError:
                    session.rollback()

    threads = [threading.Thread(target=assign) for _ in range(4)] + \
        [threading.Thread(target=claim_all, args=(agent_id,)) for agent_id in claimers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with hub.database.sessions() as session:
        held = dict(session.execute(select(Escalation.agent_id, func.count())
                                    .where(Escalation.status == EscalationStatus.WITH_AGENT)
                                    .group_by(Escalation.agent_id)).all())
        queued = session.scalar(select(func.count()).select_from(Escalation)
                                .where(Escalation.status == EscalationStatus.QUEUED))
        # each customer was told once who joined: no escalation was taken twice
        joined = session.scalar(select(func.count()).select_from(Message)
                                .where(Message.sender == "system", Message.agent_name.is_not(None)))
    assert sorted(held.values()) == [2, 2, 2] and queued == 2 and joined == 6


def test_a_console_hears_only_of_escalations_and_messages_in_its_languages(
        client: TestClient, settings: Settings) -> None:
    """What a Norwegian customer writes never reaches a Swedish-only console's socket: the
    first event the Swedish console gets is the Swedish escalation, after the Norwegian one."""
    norwegian = add_agent(settings, "Nora", languages=["nb"])
    swedish = add_agent(settings, "Sven", languages=["sv"])
    with live_socket(client, "/ws/agents", swedish) as sven, \
            live_socket(client, "/ws/agents", norwegian) as nora:
        nb = escalate(client, "nb")
        client.post(f"/api/conversations/{nb['conversation']}/messages",
                    json={"text": "pakken min er borte"}, headers=auth(nb["token"]))
        created = next_of_type(nora, "escalation.created")
        assert created["escalation"]["language"] == "nb"
        assert next_of_type(nora, "message.created")["message"]["text"] == "pakken min er borte"
        sv = escalate(client, "sv")
        first = sven.receive_json()
        assert first["type"] == "escalation.created"
        assert first["escalation"]["reference"] == sv["reference"]
