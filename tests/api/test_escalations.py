"""The agents' endpoints: queue order, detail, claim (one agent only), write, resolve."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from api.settings import Settings
from tests.support.api import add_agent, auth, hook_body, post_hook, start


def escalate(client: TestClient, **overrides) -> tuple[str, str, int, str]:
    conversation, token = start(client)
    reference = post_hook(client, hook_body(conversation, **overrides)).json()["reference"]
    return conversation, token, 0, reference


def queue(client: TestClient, agent_token: str, status: str = "open") -> list[dict]:
    response = client.get("/api/escalations", params={"status": status}, headers=auth(agent_token))
    assert response.status_code == 200
    return response.json()


def test_agent_endpoints_need_a_valid_agent_token(client: TestClient) -> None:
    assert client.get("/api/escalations").status_code == 401
    assert client.get("/api/escalations", headers=auth("guess")).status_code == 401
    conversation, customer_token = start(client)
    # a customer's token is not an agent's
    assert client.get("/api/escalations", headers=auth(customer_token)).status_code == 401


def test_queue_is_highest_priority_then_oldest_first(client: TestClient, agent_token: str) -> None:
    escalate(client, priority="normal", summary="first normal")
    escalate(client, priority="high", summary="high")
    escalate(client, priority="normal", summary="second normal")
    escalate(client, priority="urgent", summary="urgent")
    assert [e["bot_summary"] for e in queue(client, agent_token)] == [
        "urgent", "high", "first normal", "second normal"]


def test_detail_has_everything_the_bot_gathered(client: TestClient, agent_token: str) -> None:
    escalate(client)
    [item] = queue(client, agent_token)
    detail = client.get(f"/api/escalations/{item['id']}", headers=auth(agent_token)).json()
    assert detail["details"] == {"order_number": "10483921"}
    assert detail["transcript"][0]["text"] == "hvor er pakken?"
    assert detail["language"] == "nb" and detail["reason"] == "request_human"
    assert detail["scorecard"]["score"] == 1.0 and detail["topics"] == ["track_order"]
    assert client.get("/api/escalations/999999", headers=auth(agent_token)).status_code == 404


def test_only_one_agent_can_claim(client: TestClient, agent_token: str, settings: Settings) -> None:
    other = add_agent(settings, "Ola")
    escalate(client)
    [item] = queue(client, agent_token)
    first = client.post(f"/api/escalations/{item['id']}/claim", headers=auth(agent_token))
    second = client.post(f"/api/escalations/{item['id']}/claim", headers=auth(other))
    assert first.status_code == 200 and first.json()["agent_name"] == "Kari"
    assert second.status_code == 409 and "Kari" in second.json()["detail"]


def test_agent_chat_reaches_the_customer_and_back(client: TestClient, agent_token: str) -> None:
    conversation, token, _, _ = escalate(client)
    [item] = queue(client, agent_token)
    url = f"/api/escalations/{item['id']}/messages"
    assert client.post(url, json={"text": "Hei!"}, headers=auth(agent_token)).status_code == 409
    client.post(f"/api/escalations/{item['id']}/claim", headers=auth(agent_token))
    assert client.post(url, json={"text": "  "}, headers=auth(agent_token)).status_code == 422
    assert client.post(url, json={"text": "x" * 2001},
                       headers=auth(agent_token)).status_code == 422
    sent = client.post(url, json={"text": "Hei, dette er Kari."}, headers=auth(agent_token))
    assert sent.status_code == 201
    history = client.get(f"/api/conversations/{conversation}/messages",
                         headers=auth(token)).json()
    assert history["status"] == "with_agent"
    assert history["messages"][-1] == {**history["messages"][-1], "sender": "agent",
                                       "agent_name": "Kari", "text": "Hei, dette er Kari."}
    reply = client.post(f"/api/conversations/{conversation}/messages", json={"text": "Takk!"},
                        headers=auth(token)).json()
    assert reply["status"] == "with_agent"


def test_resolve_closes_or_returns_to_the_bot(client: TestClient, agent_token: str,
                                               settings: Settings) -> None:
    closed_conv, closed_token, _, _ = escalate(client)
    back_conv, back_token, _, _ = escalate(client)
    items = {e["conversation_id"]: e for e in queue(client, agent_token)}
    other = add_agent(settings, "Ola")
    client.post(f"/api/escalations/{items[closed_conv]['id']}/claim", headers=auth(agent_token))
    refused = client.post(f"/api/escalations/{items[closed_conv]['id']}/resolve",
                          json={"return_to_bot": False}, headers=auth(other))
    assert refused.status_code == 409
    done = client.post(f"/api/escalations/{items[closed_conv]['id']}/resolve",
                       json={"return_to_bot": False}, headers=auth(agent_token))
    assert done.status_code == 200 and done.json()["status"] == "closed"
    again = client.post(f"/api/escalations/{items[closed_conv]['id']}/resolve",
                        json={"return_to_bot": False}, headers=auth(agent_token))
    assert again.status_code == 409
    late = client.post(f"/api/conversations/{closed_conv}/messages", json={"text": "hallo?"},
                       headers=auth(closed_token))
    assert late.status_code == 409 and "closed" in late.json()["detail"]

    client.post(f"/api/escalations/{items[back_conv]['id']}/resolve",
                json={"return_to_bot": True}, headers=auth(agent_token))
    history = client.get(f"/api/conversations/{back_conv}/messages",
                         headers=auth(back_token)).json()
    assert history["status"] == "bot"
    assert [e["summary"] for e in queue(client, agent_token, "closed")]
    assert queue(client, agent_token) == []


def test_unknown_status_filter_is_refused(client: TestClient, agent_token: str) -> None:
    response = client.get("/api/escalations", params={"status": "lost"}, headers=auth(agent_token))
    assert response.status_code == 422


def test_scorecard_aggregates_the_handed_off_conversations(client: TestClient,
                                                           agent_token: str) -> None:
    escalate(client, scorecard={"welcomed": True, "expectations_set": True, "score": 1.0})
    escalate(client, scorecard={"welcomed": False, "expectations_set": None, "score": 0.5})
    summary = client.get("/api/scorecard", headers=auth(agent_token)).json()
    assert summary["conversations"] == 2
    assert summary["welcomed"] == 0.5 and summary["expectations_set"] == 1.0
    assert summary["mean_score"] == 0.75
    assert client.get("/api/scorecard").status_code == 401


def test_typing_is_only_for_the_agent_who_claimed_it(client: TestClient, agent_token: str,
                                                     settings: Settings) -> None:
    conversation, _ = start(client)
    post_hook(client, hook_body(conversation))
    [item] = client.get("/api/escalations", headers=auth(agent_token)).json()
    typing = f"/api/escalations/{item['id']}/typing"
    assert client.post(typing, headers=auth(agent_token)).status_code == 409  # not claimed
    client.post(f"/api/escalations/{item['id']}/claim", headers=auth(agent_token))
    other = add_agent(settings, "Other")
    assert client.post(typing, headers=auth(other)).status_code == 409
    assert client.post(typing, headers=auth(agent_token)).status_code == 204


def race_once(hub: Any, escalation_id: int, claimer_id: int, resolver_id: int) -> list[str]:
    """One agent claims while another resolves, each in its own thread and session."""
    import asyncio
    import threading

    from api.errors import ServiceError
    from api.models import Agent
    from api.services import escalations
    from api.state import TransitionError

    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def claim() -> None:
        with hub.database.sessions() as session:
            claimer = session.get_one(Agent, claimer_id)
            barrier.wait()
            try:
                escalations.claim(session, escalation_id, claimer)
                outcomes.append("claimed")
            except (ServiceError, TransitionError):
                outcomes.append("refused")

    def resolve() -> None:
        with hub.database.sessions() as session:
            resolver = session.get_one(Agent, resolver_id)
            barrier.wait()
            try:
                asyncio.run(escalations.resolve(hub, session, escalation_id, resolver, False))
                outcomes.append("resolved")
            except (ServiceError, TransitionError):
                outcomes.append("refused")

    threads = [threading.Thread(target=claim), threading.Thread(target=resolve)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def test_claim_and_resolve_racing_never_both_succeed(database_url: str) -> None:
    """20 rounds of one agent claiming while another resolves the same escalation: at most
    one of them wins (the hub's sessions carry the service's event listeners)."""
    from api.main import create_app
    from api.models import Agent
    from api.services import escalations
    from tests.support.api import make_settings

    settings = make_settings(database_url)
    with TestClient(create_app(settings)) as client:
        hub = client.app.state.hub
        add_agent(settings, "Claimer")
        add_agent(settings, "Resolver")
        with hub.database.sessions() as session:
            claimer_id, resolver_id = [a.id for a in session.query(Agent).order_by(Agent.id)][-2:]
        for _ in range(20):
            conversation, _ = start(client)
            post_hook(client, hook_body(conversation))
            with hub.database.sessions() as session:
                escalation = escalations.open_for_conversation(session, conversation)
                assert escalation is not None
                escalation_id = escalation.id
            outcomes = race_once(hub, escalation_id, claimer_id, resolver_id)
            assert outcomes in (["claimed", "refused"], ["refused", "resolved"]), outcomes
