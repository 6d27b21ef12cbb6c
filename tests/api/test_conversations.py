"""The widget's endpoints: start, messages, history; every error case."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support.api import auth, hook_body, post_hook, start


def test_start_returns_an_unguessable_token_scoped_to_the_conversation(client: TestClient) -> None:
    first, first_token = start(client, "sv")
    second, second_token = start(client)
    assert first != second and len(first_token) >= 40 and first_token != second_token
    response = client.get(f"/api/conversations/{first}/messages", headers=auth(second_token))
    assert response.status_code == 403


def test_start_refuses_an_unknown_language(client: TestClient) -> None:
    assert client.post("/api/conversations", json={"language": "en"}).status_code == 422


def test_message_without_token_or_with_wrong_token_is_refused(client: TestClient) -> None:
    conversation, _ = start(client)
    url = f"/api/conversations/{conversation}/messages"
    assert client.post(url, json={"text": "hei"}).status_code == 401
    assert client.post(url, json={"text": "hei"}, headers=auth("nope")).status_code == 403
    assert client.post("/api/conversations/c_unknown/messages", json={"text": "hei"},
                       headers=auth("nope")).status_code == 404


def test_empty_too_long_and_malformed_messages_get_a_reason(client: TestClient) -> None:
    conversation, token = start(client)
    url = f"/api/conversations/{conversation}/messages"
    cases = [{"text": "   "}, {"text": "x" * 2001}, {"payload": "track_order"},
             {"text": "hei", "payload": "/greet"}, {}]
    for body in cases:
        response = client.post(url, json=body, headers=auth(token))
        assert response.status_code == 422, body
        assert response.json()["detail"]
    assert client.post(url, content=b"not json", headers={**auth(token),
                       "Content-Type": "application/json"}).status_code == 422


def test_message_is_kept_and_answered_honestly_when_the_bot_is_down(client: TestClient) -> None:
    conversation, token = start(client, "da")
    url = f"/api/conversations/{conversation}/messages"
    reply = client.post(url, json={"text": "hvor er min pakke?"}, headers=auth(token)).json()
    assert reply["status"] == "bot"
    assert reply["messages"][0]["sender"] == "system"
    assert "gemt" in reply["messages"][0]["text"]
    history = client.get(url, headers=auth(token)).json()
    assert [m["sender"] for m in history["messages"]] == ["customer", "system"]
    assert history["messages"][0]["text"] == "hvor er min pakke?"


def test_html_is_stored_as_the_text_it_is(client: TestClient) -> None:
    conversation, token = start(client)
    url = f"/api/conversations/{conversation}/messages"
    payload = "<img src=x onerror=alert(1)>"
    client.post(url, json={"text": payload}, headers=auth(token))
    assert client.get(url, headers=auth(token)).json()["messages"][0]["text"] == payload


def test_queued_conversation_sends_to_the_agent_and_reports_the_queue(
    client: TestClient, agent_token: str
) -> None:
    conversation, token = start(client)
    assert post_hook(client, hook_body(conversation)).status_code == 201
    reply = client.post(f"/api/conversations/{conversation}/messages",
                        json={"text": "er det noen der?"}, headers=auth(token)).json()
    assert reply["status"] == "queued" and reply["messages"] == []
    assert reply["escalation"]["reference"].startswith("NH-")
    [escalation] = client.get("/api/escalations", headers=auth(agent_token)).json()
    detail = client.get(f"/api/escalations/{escalation['id']}", headers=auth(agent_token)).json()
    assert detail["messages"][-1]["text"] == "er det noen der?"


def test_history_after_an_id_returns_only_newer_messages(client: TestClient) -> None:
    conversation, token = start(client)
    url = f"/api/conversations/{conversation}/messages"
    client.post(url, json={"text": "en"}, headers=auth(token))
    first_id = client.get(url, headers=auth(token)).json()["messages"][-1]["id"]
    client.post(url, json={"text": "to"}, headers=auth(token))
    newer = client.get(url, params={"after": first_id}, headers=auth(token)).json()["messages"]
    assert [m["text"] for m in newer if m["sender"] == "customer"] == ["to"]


def test_cors_allows_only_the_configured_origins(client: TestClient) -> None:
    allowed = client.options("/api/conversations", headers={
        "Origin": "https://shop.example", "Access-Control-Request-Method": "POST"})
    refused = client.options("/api/conversations", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert allowed.headers.get("access-control-allow-origin") == "https://shop.example"
    assert "access-control-allow-origin" not in refused.headers


def test_page_is_kept_without_query_or_fragment(client: TestClient, settings) -> None:
    from api.db import Database
    from api.models import Conversation

    response = client.post("/api/conversations", json={
        "language": "nb", "page": "https://shop.example/ordre?email=kari@example.no#top"})
    database = Database(settings.database_url)
    with database.sessions() as session:
        stored = session.get(Conversation, response.json()["conversation_id"]).page
    database.engine.dispose()
    assert stored == "https://shop.example/ordre"
