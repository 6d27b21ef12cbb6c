"""Events: published in the transaction, heard by listeners only after it commits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import pytest
from fastapi.testclient import TestClient

from api.events import (
    ConversationStarted,
    CsatRequested,
    EscalationClaimed,
    EscalationCreated,
    EscalationResolved,
    Event,
    MessageCreated,
    publish,
)
from api.models import Conversation, Escalation
from api.schemas import MessageOut
from api.services.hub import Hub
from tests.support.api import auth, hook_body, post_hook, start


@pytest.fixture
def hub(client: TestClient) -> Hub:
    return cast(Hub, client.app.state.hub)


@pytest.fixture
def heard(hub: Hub) -> Iterator[list[Event]]:
    events: list[Event] = []
    stop = hub.events.listen(events.append)
    yield events
    stop()


def test_a_listener_hears_typed_events_after_the_commit(
    client: TestClient, agent_token: str, hub: Hub, heard: list[Event]
) -> None:
    seen_in_database: list[bool] = []

    def check_committed(event: Event) -> None:
        if isinstance(event, EscalationCreated):
            with hub.database.sessions() as other:  # another connection sees the row
                seen_in_database.append(other.get(Escalation, event.escalation.id) is not None)

    stop = hub.events.listen(check_committed)
    conversation, _ = start(client)
    post_hook(client, hook_body(conversation, reason="complaint"))
    [item] = client.get("/api/escalations", headers=auth(agent_token)).json()
    client.post(f"/api/escalations/{item['id']}/claim", headers=auth(agent_token))
    client.post(f"/api/escalations/{item['id']}/resolve", json={"return_to_bot": True},
                headers=auth(agent_token))
    stop()
    assert seen_in_database == [True]
    kinds = [type(event) for event in heard]
    assert kinds == [ConversationStarted, EscalationCreated, EscalationClaimed, MessageCreated,
                     EscalationResolved, MessageCreated, CsatRequested]
    created, claimed, resolved = heard[1], heard[2], heard[4]
    assert isinstance(created, EscalationCreated) and created.escalation.reason == "complaint"
    assert created.transcript[0]["text"] == "hvor er pakken?"
    assert isinstance(claimed, EscalationClaimed) and claimed.escalation.agent_name == "Kari"
    assert isinstance(resolved, EscalationResolved) and resolved.return_to_bot
    assert resolved.conversation_status == "bot"


def test_nothing_is_heard_of_a_rolled_back_or_abandoned_transaction(
    client: TestClient, hub: Hub, heard: list[Event]
) -> None:
    conversation, _ = start(client)
    heard.clear()
    message = MessageOut(sender="system", text="never happened")
    with hub.database.sessions() as session:
        session.get_one(Conversation, conversation).language = "sv"
        publish(session, MessageCreated(conversation, message))
        session.rollback()
        session.commit()  # a later commit does not deliver what was rolled back
    with hub.database.sessions() as session:
        publish(session, MessageCreated(conversation, message))
        session.get_one(Conversation, conversation)
    # closed without a commit
    assert heard == []
    with hub.database.sessions() as session:
        publish(session, MessageCreated(conversation, message))
        session.commit()
    assert heard == [MessageCreated(conversation, message)]


def test_a_failing_listener_does_not_fail_the_request_or_other_listeners(
    client: TestClient, hub: Hub, heard: list[Event]
) -> None:
    def broken(event: Event) -> None:
        raise RuntimeError("listener bug")

    hub.events.listen(broken)
    conversation, token = start(client)
    assert conversation and token
    assert [type(event) for event in heard] == [ConversationStarted]


def test_publish_needs_a_session_with_events_attached(hub: Hub) -> None:
    from api.db import Database

    database = Database(hub.settings.database_url)
    with database.sessions() as session, pytest.raises(RuntimeError):
        publish(session, ConversationStarted("c_x", "nb"))
    database.engine.dispose()


def test_queue_places_follow_priority_and_age(client: TestClient, agent_token: str) -> None:
    first, first_token = start(client)
    second, _ = start(client)
    assert post_hook(client, hook_body(first)).json()["position"] == 1
    assert post_hook(client, hook_body(second, priority="urgent")).json()["position"] == 1
    history = client.get(f"/api/conversations/{first}/messages", headers=auth(first_token))
    assert history.json()["escalation"]["position"] == 2
    third, _ = start(client)
    assert post_hook(client, hook_body(third)).json()["position"] == 3
