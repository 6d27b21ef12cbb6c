"""CSAT: asked once when an agent resolves, answered 1-5 with a comment or skipped, masked,
sent to the helpdesks as csat.submitted, shown in /api/scorecard, /metrics and the console;
every error case. (The bot's goodbye asking for it runs with the real bot:
tests/api/test_end_to_end.py and the widget in tests/api/test_browser.py.)"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.db import Database
from api.events import Events
from api.main import create_app
from api.models import Conversation, CsatSurvey, OutboxEvent
from api.services.erasure import Requester, TrackerStore, erase
from api.settings import Settings
from tests.support.api import (
    METRICS_TOKEN,
    auth,
    claimed_escalation,
    hook_body,
    make_settings,
    post_hook,
    start,
)

CARD = "4111 1111 1111 1111"  # a valid card number (Luhn): masked before it is stored


def resolve(client: TestClient, agent_token: str, escalation_id: int, back: bool = False) -> None:
    done = client.post(f"/api/escalations/{escalation_id}/resolve",
                       json={"return_to_bot": back}, headers=auth(agent_token))
    assert done.status_code == 200, done.text


def history_csat(client: TestClient, conversation: str, token: str) -> dict | None:
    return client.get(f"/api/conversations/{conversation}/messages",
                      headers=auth(token)).json()["csat"]


def rate(client: TestClient, conversation: str, token: str, body: object):
    return client.post(f"/api/conversations/{conversation}/csat", json=body, headers=auth(token))


def test_an_agents_resolution_asks_once_and_the_rating_is_kept_masked(
        database_url: str) -> None:
    settings = make_settings(database_url, webhook_urls="http://127.0.0.1:9/helpdesk",
                             webhook_secret="csat-test-secret")
    with TestClient(create_app(settings)) as client:
        agent, conversation, token, escalation_id = claimed_escalation(client, settings)
        assert history_csat(client, conversation, token) is None
        early = rate(client, conversation, token, {"score": 5})
        assert early.status_code == 409 and "no rating was asked" in early.json()["detail"]

        resolve(client, agent, escalation_id)
        assert history_csat(client, conversation, token) == {"state": "asked", "score": None}
        given = rate(client, conversation, token,
                     {"score": 4, "comment": f"Kari var flink! Kortet mitt er {CARD}"})
        assert given.status_code == 200 and given.json() == {"state": "answered", "score": 4}
        assert history_csat(client, conversation, token) == {"state": "answered", "score": 4}
        again = rate(client, conversation, token, {"score": 1})
        assert again.status_code == 409 and "already rated" in again.json()["detail"]

        detail = client.get(f"/api/escalations/{escalation_id}", headers=auth(agent)).json()
        assert detail["csat_score"] == 4

    database = Database(settings.database_url)
    with database.sessions() as session:
        survey = session.scalar(select(CsatSurvey))
        assert survey is not None and survey.score == 4 and survey.handled_by == "agent"
        assert survey.reason == "request_human" and survey.language == "nb"
        assert CARD not in (survey.comment or "") and "Kari var flink!" in (survey.comment or "")
        [event] = session.scalars(select(OutboxEvent).where(OutboxEvent.type == "csat.submitted"))
        assert event.payload["score"] == 4 and event.payload["agent_name"] == "Kari"
        assert event.payload["reference"].startswith("NH-") and CARD not in str(event.payload)
        assert event.conversation_id == conversation  # erased with the conversation
    database.engine.dispose()


def test_a_skipped_rating_is_kept_as_skipped_and_not_asked_again(
        client: TestClient, settings: Settings) -> None:
    agent, conversation, token, escalation_id = claimed_escalation(client, settings)
    resolve(client, agent, escalation_id, back=True)  # back to the bot: still asked, once
    skipped = rate(client, conversation, token, {"skipped": True})
    assert skipped.status_code == 200 and skipped.json() == {"state": "skipped", "score": None}
    assert rate(client, conversation, token, {"score": 5}).status_code == 409
    # a second hand-off in the same conversation, resolved: no second question
    post_hook(client, hook_body(conversation))
    [item] = client.get("/api/escalations", headers=auth(agent)).json()
    client.post(f"/api/escalations/{item['id']}/claim", headers=auth(agent))
    resolve(client, agent, item["id"])
    assert history_csat(client, conversation, token) == {"state": "skipped", "score": None}


def test_bad_ratings_get_a_reason_and_change_nothing(client: TestClient, settings: Settings) -> None:
    agent, conversation, token, escalation_id = claimed_escalation(client, settings)
    resolve(client, agent, escalation_id)
    for body in ({}, {"score": 0}, {"score": 6}, {"score": "five"}, {"score": 4.5},
                 {"skipped": True, "score": 3}, {"skipped": True, "comment": "hm"},
                 {"score": 3, "comment": "x" * 1001}, {"comment": "bra"}, [], "5"):
        response = rate(client, conversation, token, body)
        assert response.status_code == 422, body
        assert response.json()["detail"], body
    assert history_csat(client, conversation, token) == {"state": "asked", "score": None}


def test_only_the_customer_of_the_conversation_can_rate_it(client: TestClient,
                                                           settings: Settings) -> None:
    agent, conversation, token, escalation_id = claimed_escalation(client, settings)
    resolve(client, agent, escalation_id)
    _, other_token = start(client)
    url = f"/api/conversations/{conversation}/csat"
    assert client.post(url, json={"score": 5}).status_code == 401
    assert client.post(url, json={"score": 5}, headers=auth(other_token)).status_code == 403
    assert client.post(url, json={"score": 5}, headers=auth(agent)).status_code == 403
    assert client.post("/api/conversations/c_unknown/csat", json={"score": 5},
                       headers=auth(token)).status_code == 404
    assert history_csat(client, conversation, token)["state"] == "asked"


def sv_complaints_rated_2(client: TestClient) -> float:
    """/metrics' count of Swedish complaints rated 2 by an agent-handled conversation (the
    counters live as long as the process, across tests)."""
    text = client.get("/metrics", headers=auth(METRICS_TOKEN)).text
    line = next((line for line in text.splitlines()
                 if line.startswith("nordhem_csat_ratings_total{") and 'language="sv"' in line
                 and 'handled_by="agent"' in line and 'reason="complaint"' in line
                 and 'score="2"' in line), None)
    return float(line.rsplit(" ", 1)[1]) if line else 0.0


def test_scorecard_and_metrics_show_csat_by_language_reason_and_handling(
        client: TestClient, settings: Settings) -> None:
    before = sv_complaints_rated_2(client)
    agent, conversation, token, escalation_id = claimed_escalation(client, settings)
    resolve(client, agent, escalation_id)
    rate(client, conversation, token, {"score": 5})
    second, second_token = start(client, "sv")
    post_hook(client, hook_body(second, language="sv", reason="complaint", priority="high"))
    listed = client.get("/api/escalations", headers=auth(agent)).json()
    [item] = [e for e in listed if e["conversation_id"] == second]
    client.post(f"/api/escalations/{item['id']}/claim", headers=auth(agent))
    resolve(client, agent, item["id"])
    assert rate(client, second, second_token, {"score": 2}).status_code == 200

    report = client.get("/api/scorecard", headers=auth(agent)).json()["csat"]
    assert report["overall"]["answered"] == 2 and report["overall"]["average"] == 3.5
    assert report["overall"]["satisfied_share"] == 0.5
    assert report["by_language"]["nb"]["average"] == 5 and report["by_language"]["sv"]["average"] == 2
    assert report["by_reason"]["complaint"]["scores"]["2"] == 1
    assert report["by_handling"]["agent"]["answered"] == 2
    assert sv_complaints_rated_2(client) == before + 1


def test_an_erased_conversation_takes_its_rating_with_it(client: TestClient, settings: Settings,
                                                         tracker_db: Path) -> None:
    agent, conversation, token, escalation_id = claimed_escalation(client, settings)
    resolve(client, agent, escalation_id)
    rate(client, conversation, token, {"score": 3, "comment": "ok"})
    database = Database(settings.database_url)
    Events().attach(database.sessions)
    with database.sessions() as session:
        record = erase(session, conversation, TrackerStore(f"sqlite:///{tracker_db}"),
                       Requester.OPERATOR, dt.datetime.now(dt.timezone.utc))
        assert record is not None
        assert session.scalar(select(CsatSurvey)) is None
        assert session.get(Conversation, conversation) is None
    database.engine.dispose()
