"""WebSockets: customers get agent messages and queue places; agents get the queue live."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support.api import auth, hook_body, post_hook, start
from tests.support.live import live_socket, next_of_type

# how the sockets authenticate and what they refuse: tests/api/test_ws_auth.py


def test_escalation_and_agent_reply_are_pushed_live(client: TestClient, agent_token: str) -> None:
    conversation, token = start(client)
    with live_socket(client, "/ws/agents", agent_token) as agents, \
            live_socket(client, f"/ws/conversations/{conversation}", token) as customer:
        post_hook(client, hook_body(conversation))
        created = next_of_type(agents, "escalation.created")["escalation"]
        assert created["conversation_id"] == conversation
        place = next_of_type(customer, "queue")["escalation"]
        assert place["position"] == 1
        client.post(f"/api/escalations/{created['id']}/claim", headers=auth(agent_token))
        assert next_of_type(customer, "status")["status"] == "with_agent"
        client.post(f"/api/escalations/{created['id']}/messages", json={"text": "Hei <b>!</b>"},
                    headers=auth(agent_token))
        message = next_of_type(customer, "message")["message"]
        while message["sender"] != "agent":
            message = next_of_type(customer, "message")["message"]
        assert message["text"] == "Hei <b>!</b>"
        customer.send_json({"type": "typing"})
        assert next_of_type(agents, "typing")["escalation_id"] == created["id"]
        client.post(f"/api/conversations/{conversation}/messages", json={"text": "Takk"},
                    headers=auth(token))
        pushed = next_of_type(agents, "message.created")
        while pushed["message"]["sender"] != "customer":
            pushed = next_of_type(agents, "message.created")
        assert pushed["message"]["text"] == "Takk"
