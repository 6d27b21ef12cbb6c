"""The WebSockets authenticate with their first frame, never with a token in the URL, and
close with a code that says why: 4400 not an auth frame or a token in the URL, 4401 agent
token, 4403 customer token, 4404 no conversation, 4408 no auth frame in time."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from api.db import Database
from api.main import create_app
from api.models import Agent
from api.settings import Settings
from tests.support.api import add_agent, auth, hook_body, make_settings, post_hook, start
from tests.support.live import live_socket


def closed(socket: WebSocketTestSession) -> WebSocketDisconnect:
    """How the server closed `socket`: its next frame must be the close, not an event."""
    with pytest.raises(WebSocketDisconnect) as refusal:
        socket.receive_json()
    return refusal.value


def test_a_socket_hears_nothing_before_its_auth_frame(client: TestClient, agent_token: str) -> None:
    conversation, _ = start(client)
    with client.websocket_connect("/ws/agents") as agents:
        post_hook(client, hook_body(conversation))  # published while the socket is not yet in
        agents.send_json({"type": "auth", "token": agent_token})
        assert agents.receive_json() == {"type": "ready"}
        [item] = client.get("/api/escalations", headers=auth(agent_token)).json()
        client.post(f"/api/escalations/{item['id']}/claim", headers=auth(agent_token))
        seen = [agents.receive_json()["type"]]
        while seen[-1] != "escalation.claimed":
            seen.append(agents.receive_json()["type"])
    assert "escalation.created" not in seen


@pytest.mark.parametrize("socket", ["agents", "conversation"])
def test_a_valid_token_in_the_url_is_refused(client: TestClient, agent_token: str,
                                             socket: str) -> None:
    conversation, customer_token = start(client)
    path = (f"/ws/agents?token={agent_token}" if socket == "agents" else
            f"/ws/conversations/{conversation}?token={customer_token}")
    with client.websocket_connect(path) as refused:
        refused.send_json({"type": "auth", "token": agent_token if socket == "agents"
                           else customer_token})
        refusal = closed(refused)
    assert refusal.code == 4400 and "never in the URL" in refusal.reason


def first_frames(client: TestClient, settings: Settings) -> dict[str, tuple[str, Any, int]]:
    """Case name: (path, first frame, the close code it gets)."""
    conversation, _ = start(client)
    _, other_token = start(client)
    revoked = add_agent(settings, "Former")
    database = Database(settings.database_url)
    with database.sessions() as session:
        for agent in session.scalars(select(Agent).where(Agent.name == "Former")):
            agent.revoked_at = dt.datetime.now(dt.timezone.utc)
        session.commit()
    database.engine.dispose()
    own = f"/ws/conversations/{conversation}"
    return {
        "unknown agent token": ("/ws/agents", {"type": "auth", "token": "nope"}, 4401),
        "no agent token": ("/ws/agents", {"type": "auth"}, 4401),
        "revoked agent token": ("/ws/agents", {"type": "auth", "token": revoked}, 4401),
        "wrong customer token": (own, {"type": "auth", "token": "nope"}, 4403),
        "another conversation's token": (own, {"type": "auth", "token": other_token}, 4403),
        "no such conversation": ("/ws/conversations/c_missing",
                                 {"type": "auth", "token": other_token}, 4404),
        "typing before auth": (own, {"type": "typing"}, 4400),
        "not JSON": (own, "token please", 4400),
        "token not a string": ("/ws/agents", {"type": "auth", "token": 42}, 4400),
        # a large first frame is refused unread: parsing it would stall the event loop
        "a huge first frame": ("/ws/agents", "[" * 2000 + "]" * 2000, 4400),
    }


def test_each_bad_first_frame_closes_with_its_code(client: TestClient, settings: Settings) -> None:
    for case, (path, frame, code) in first_frames(client, settings).items():
        with client.websocket_connect(path) as socket:
            if isinstance(frame, str):
                socket.send_text(frame)
            else:
                socket.send_json(frame)
            refusal = closed(socket)
        assert (refusal.code, bool(refusal.reason)) == (code, True), case


def test_an_expired_agent_token_is_refused(settings: Settings) -> None:
    issued = dt.datetime.now(dt.timezone.utc)
    with TestClient(create_app(settings, clock=lambda: issued)) as client:
        token = add_agent(settings, "Ola")
        with live_socket(client, "/ws/agents", token):  # the same token, on its first day
            pass
    day_91 = issued + dt.timedelta(days=91)
    with TestClient(create_app(settings, clock=lambda: day_91)) as client, \
            client.websocket_connect("/ws/agents") as socket:
        socket.send_json({"type": "auth", "token": token})
        refusal = closed(socket)
    assert refusal.code == 4401 and "expired" in refusal.reason


def test_a_silent_socket_is_closed_at_the_auth_deadline(database_url: str) -> None:
    settings = make_settings(database_url, ws_auth_seconds=0.2)
    with TestClient(create_app(settings)) as client, client.websocket_connect("/ws/agents") as socket:
        refusal = closed(socket)
    assert refusal.code == 4408 and "auth frame" in refusal.reason


def test_a_frame_that_is_not_json_closes_an_authenticated_socket(client: TestClient,
                                                                agent_token: str) -> None:
    with live_socket(client, "/ws/agents", agent_token) as agents:
        agents.send_text("{not json")
        refusal = closed(agents)
    assert refusal.code == 4400


def test_an_open_agent_socket_closes_once_its_token_is_revoked(database_url: str) -> None:
    """Revoking a token ends the agent's live view too, not only new logins."""
    settings = make_settings(database_url, ws_recheck_seconds=0.2)
    with TestClient(create_app(settings)) as client:
        token = add_agent(settings, "Former")
        with live_socket(client, "/ws/agents", token) as agents:
            conversation, _ = start(client)
            post_hook(client, hook_body(conversation))  # still listening: it hears this
            assert agents.receive_json()["type"] == "escalation.created"
            database = Database(settings.database_url)
            with database.sessions() as session:
                session.scalars(select(Agent).where(Agent.name == "Former")).one().revoked_at = \
                    dt.datetime.now(dt.timezone.utc)
                session.commit()
            database.engine.dispose()
            refusal = closed(agents)
    assert refusal.code == 4401 and "revoked" in refusal.reason
