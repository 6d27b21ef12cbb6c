"""POST /hooks/escalations and the inbound helpdesk hook: signatures, replays, bad bodies."""

from __future__ import annotations

import json
import time

import httpx
from fastapi.testclient import TestClient

from tests.support.api import HELPDESK_SECRET, auth, hook_body, post_hook, start


def test_signed_hook_creates_an_escalation_with_queue_figures(client: TestClient,
                                                              agent_token: str) -> None:
    conversation, _ = start(client)
    response = post_hook(client, hook_body(conversation))
    assert response.status_code == 201
    receipt = response.json()
    assert receipt["reference"].startswith("NH-")
    assert receipt["position"] == 1
    assert set(receipt) == {"reference", "position", "eta_minutes", "eta_max_minutes",
                            "agents_online", "agents_available", "open_now", "next_open",
                            "agent_name"}
    assert receipt["agent_name"] is None  # waiting: nobody has it yet
    # nothing was served yet, so there is no basis for a waiting time at any hour
    # (open and closed with an injected clock: tests/api/test_estimates.py)
    assert receipt["eta_minutes"] is None and receipt["eta_max_minutes"] is None


def test_bad_or_missing_signature_is_refused_and_nothing_is_created(
    client: TestClient, agent_token: str
) -> None:
    conversation, _ = start(client)
    raw = json.dumps(hook_body(conversation)).encode()
    for headers in ({}, {"X-Signature": "sha256=00"}):
        response = client.post("/hooks/escalations", content=raw,
                               headers={"Content-Type": "application/json", **headers})
        assert response.status_code == 401
    assert client.get("/api/escalations", headers=auth(agent_token)).json() == []


def test_replayed_hook_is_refused(client: TestClient) -> None:
    conversation, _ = start(client)
    body = hook_body(conversation)
    assert post_hook(client, body).status_code == 201
    replay = post_hook(client, body)
    assert replay.status_code == 409 and "already" in replay.json()["detail"]


def test_stale_hook_is_refused(client: TestClient) -> None:
    conversation, _ = start(client)
    response = post_hook(client, hook_body(conversation, sent_at=time.time() - 3600))
    assert response.status_code == 422


def test_malformed_hook_bodies_get_a_reason(client: TestClient) -> None:
    conversation, _ = start(client)
    for body in ([1, 2], {"conversation_id": conversation},
                 hook_body(conversation, language="en"), hook_body(conversation, priority="max")):
        response = post_hook(client, body)
        assert response.status_code == 422, body
        assert response.json()["detail"]


def test_hook_for_a_conversation_the_widget_never_started_is_kept(
    client: TestClient, agent_token: str
) -> None:
    assert post_hook(client, hook_body("rest-channel-user-1")).status_code == 201
    [item] = client.get("/api/escalations", headers=auth(agent_token)).json()
    assert item["conversation_id"] == "rest-channel-user-1"


def helpdesk(client: TestClient, body: dict, secret: str = HELPDESK_SECRET) -> httpx.Response:
    return post_hook(client, body, secret, "/hooks/helpdesk/messages")


def test_helpdesk_reply_reaches_the_customer(client: TestClient) -> None:
    conversation, token = start(client)
    reference = post_hook(client, hook_body(conversation)).json()["reference"]
    body = {"event_id": "helpdesk-0001", "reference": reference, "agent_name": "Ola",
            "text": "Hei! Jeg ser på saken din nå."}
    assert helpdesk(client, body).status_code == 201
    messages = client.get(f"/api/conversations/{conversation}/messages",
                          headers=auth(token)).json()["messages"]
    assert messages[-1] == {**messages[-1], "sender": "agent", "agent_name": "Ola",
                            "text": "Hei! Jeg ser på saken din nå."}
    assert helpdesk(client, body).status_code == 409  # replay
    assert helpdesk(client, {**body, "event_id": "helpdesk-0002"}, "wrong").status_code == 401
    unknown = helpdesk(client, {**body, "event_id": "helpdesk-0003", "reference": "NH-NOPE"})
    assert unknown.status_code == 404
