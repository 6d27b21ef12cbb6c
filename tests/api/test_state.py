"""The state machines of api/state.py: every allowed and every refused move, and a refused
move through the HTTP API is a 409 that names it."""

from __future__ import annotations

import itertools
from enum import Enum

import pytest
from fastapi.testclient import TestClient

from api import state
from api.db import Database
from api.models import Conversation, Escalation
from api.settings import Settings
from core.vocabulary import ConversationStatus as C
from core.vocabulary import EscalationStatus as E
from core.vocabulary import OutboxStatus as O
from tests.support.api import add_agent, auth, hook_body, post_hook, start

# the moves each table allows, written out: anything else must be refused
ALLOWED: dict[str, set[tuple[Enum, Enum]]] = {
    "conversation": {(C.BOT, C.QUEUED), (C.BOT, C.CLOSED), (C.QUEUED, C.WITH_AGENT),
                     (C.QUEUED, C.BOT), (C.QUEUED, C.CLOSED), (C.WITH_AGENT, C.BOT),
                     (C.WITH_AGENT, C.CLOSED)},
    "escalation": {(E.QUEUED, E.WITH_AGENT), (E.QUEUED, E.CLOSED), (E.WITH_AGENT, E.CLOSED)},
    "outbox": {(O.PENDING, O.DELIVERED), (O.PENDING, O.FAILED)},
}
TABLES = {"conversation": (state.CONVERSATION_TRANSITIONS, C),
          "escalation": (state.ESCALATION_TRANSITIONS, E),
          "outbox": (state.OUTBOX_TRANSITIONS, O)}
MOVES = [(name, current, target) for name, (_, enum) in TABLES.items()
         for current, target in itertools.product(list(enum), repeat=2)]


@pytest.mark.parametrize("name, current, target", MOVES,
                         ids=[f"{n}:{c.value}->{t.value}" for n, c, t in MOVES])
def test_transition_table_allows_exactly_the_listed_moves(name: str, current: Enum,
                                                          target: Enum) -> None:
    table, _ = TABLES[name]
    if (current, target) in ALLOWED[name]:
        assert state.move(table, current, target, name) is target
    else:
        with pytest.raises(state.TransitionError) as refused:
            state.move(table, current, target, name)
        assert refused.value.detail.startswith(name)


def test_every_status_has_a_row_in_its_table() -> None:
    for table, enum in TABLES.values():
        assert set(table) == set(enum)


def test_refusals_say_what_was_refused() -> None:
    with pytest.raises(state.TransitionError, match="escalation NH-1 is closed and cannot"):
        state.move(state.ESCALATION_TRANSITIONS, E.CLOSED, E.WITH_AGENT, "escalation NH-1")
    with pytest.raises(state.TransitionError, match="is already queued"):
        state.move(state.CONVERSATION_TRANSITIONS, C.QUEUED, C.QUEUED, "conversation c_1")
    with pytest.raises(state.TransitionError, match="from bot to with_agent .only to closed or"):
        state.move(state.CONVERSATION_TRANSITIONS, C.BOT, C.WITH_AGENT, "conversation c_1")


def test_claim_is_guarded_by_the_statuses_the_table_claims_from() -> None:
    assert state.sources(state.ESCALATION_TRANSITIONS, E.WITH_AGENT) == {E.QUEUED}
    assert state.sources(state.CONVERSATION_TRANSITIONS, C.BOT) == {C.QUEUED, C.WITH_AGENT}


def queued_escalation(client: TestClient, agent_token: str) -> tuple[str, str, int]:
    conversation, token = start(client)
    assert post_hook(client, hook_body(conversation)).status_code == 201
    [item] = client.get("/api/escalations", headers=auth(agent_token)).json()
    return conversation, token, item["id"]


def test_resolving_a_resolved_escalation_is_a_conflict(client: TestClient,
                                                       agent_token: str) -> None:
    _, _, escalation_id = queued_escalation(client, agent_token)
    url = f"/api/escalations/{escalation_id}/resolve"
    assert client.post(url, json={"return_to_bot": True}, headers=auth(agent_token)).status_code == 200
    again = client.post(url, json={"return_to_bot": False}, headers=auth(agent_token))
    assert again.status_code == 409 and "is already closed" in again.json()["detail"]
    claim = client.post(f"/api/escalations/{escalation_id}/claim", headers=auth(agent_token))
    assert claim.status_code == 409 and "is closed" in claim.json()["detail"]


def test_hook_for_a_closed_conversation_is_a_conflict_not_an_error(
    client: TestClient, agent_token: str
) -> None:
    conversation, _, escalation_id = queued_escalation(client, agent_token)
    client.post(f"/api/escalations/{escalation_id}/resolve", json={"return_to_bot": False},
                headers=auth(agent_token))
    response = post_hook(client, hook_body(conversation))
    assert response.status_code == 409
    assert response.json()["detail"] == \
        f"conversation {conversation} is closed and cannot change any more"
    assert len(client.get("/api/escalations", params={"status": "closed"},
                          headers=auth(agent_token)).json()) == 1


def test_resolving_in_a_closed_conversation_is_a_conflict_and_changes_nothing(
    client: TestClient, agent_token: str, settings: Settings
) -> None:
    conversation, _, escalation_id = queued_escalation(client, agent_token)
    database = Database(settings.database_url)
    with database.sessions() as session:  # as a database from before the state machines could hold
        session.get_one(Conversation, conversation).status = C.CLOSED
        session.commit()
    response = client.post(f"/api/escalations/{escalation_id}/resolve",
                           json={"return_to_bot": True}, headers=auth(agent_token))
    assert response.status_code == 409 and "is closed" in response.json()["detail"]
    with database.sessions() as session:
        assert session.get_one(Escalation, escalation_id).status == E.QUEUED
    database.engine.dispose()


def test_duplicate_hook_returns_the_open_escalation_and_creates_no_second(
    client: TestClient, agent_token: str, settings: Settings
) -> None:
    conversation, token = start(client)
    first = post_hook(client, hook_body(conversation))
    second = post_hook(client, hook_body(conversation, reason="complaint", priority="urgent"))
    assert first.status_code == 201 and second.status_code == 200
    assert second.json() == first.json()
    [item] = client.get("/api/escalations", headers=auth(agent_token)).json()
    assert item["reason"] == "request_human" and item["priority"] == "normal"

    claimed = client.post(f"/api/escalations/{item['id']}/claim", headers=auth(agent_token))
    assert claimed.status_code == 200 and claimed.json()["status"] == "with_agent"
    with_agent = post_hook(client, hook_body(conversation))
    assert with_agent.status_code == 200
    assert with_agent.json()["reference"] == item["reference"]
    assert with_agent.json()["position"] is None
    history = client.get(f"/api/conversations/{conversation}/messages", headers=auth(token)).json()
    assert history["status"] == "with_agent"
    database = Database(settings.database_url)
    with database.sessions() as session:
        assert session.query(Escalation).filter_by(conversation_id=conversation).count() == 1
    database.engine.dispose()


def test_a_new_hand_off_after_the_bot_took_over_again_is_a_new_escalation(
    client: TestClient, agent_token: str
) -> None:
    conversation, _, escalation_id = queued_escalation(client, agent_token)
    client.post(f"/api/escalations/{escalation_id}/resolve", json={"return_to_bot": True},
                headers=auth(agent_token))
    again = post_hook(client, hook_body(conversation))
    assert again.status_code == 201
    [item] = client.get("/api/escalations", headers=auth(agent_token)).json()
    assert item["id"] != escalation_id and item["conversation_id"] == conversation


@pytest.mark.parametrize("return_to_bot", [False, True])
def test_when_a_conversation_leaves_the_agents_all_its_escalations_close(
    client: TestClient, agent_token: str, settings: Settings, return_to_bot: bool
) -> None:
    conversation, _, escalation_id = queued_escalation(client, agent_token)
    database = Database(settings.database_url)
    with database.sessions() as session:  # a second open one, as duplicate hooks once made
        session.add(Escalation(reference="NH-LEGACY", conversation_id=conversation,
                               language="nb", reason="complaint", priority="high"))
        session.commit()
    assert len(client.get("/api/escalations", headers=auth(agent_token)).json()) == 2
    client.post(f"/api/escalations/{escalation_id}/claim", headers=auth(agent_token))
    done = client.post(f"/api/escalations/{escalation_id}/resolve",
                       json={"return_to_bot": return_to_bot}, headers=auth(agent_token))
    assert done.status_code == 200
    assert client.get("/api/escalations", headers=auth(agent_token)).json() == []
    closed = client.get("/api/escalations", params={"status": "closed"},
                        headers=auth(agent_token)).json()
    assert {e["reference"] for e in closed} >= {"NH-LEGACY"} and len(closed) == 2
    database.engine.dispose()


def test_another_agent_cannot_take_or_resolve_a_claimed_escalation(
    client: TestClient, agent_token: str, settings: Settings
) -> None:
    _, _, escalation_id = queued_escalation(client, agent_token)
    other = add_agent(settings, "Ola")
    client.post(f"/api/escalations/{escalation_id}/claim", headers=auth(agent_token))
    taken = client.post(f"/api/escalations/{escalation_id}/claim", headers=auth(other))
    assert taken.status_code == 409 and "claimed by Kari" in taken.json()["detail"]
    resolve = client.post(f"/api/escalations/{escalation_id}/resolve",
                          json={"return_to_bot": False}, headers=auth(other))
    assert resolve.status_code == 409


def test_the_contracts_languages_are_the_cores() -> None:
    from typing import get_args

    from api.schemas import Language
    from core.languages import LANGUAGES

    assert get_args(Language) == LANGUAGES
