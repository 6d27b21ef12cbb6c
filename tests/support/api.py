"""Helpers of the escalation service's tests (and tools/bench.py): settings for a test
database, agents, signed hooks, and a conversation at each step of a hand-off."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
from fastapi.testclient import TestClient

from api.db import Database
from api.models import Agent
from api.security import hash_token, new_token, sign
from api.settings import Settings
from tests.support.stack import RATE_LIMITS_OUT_OF_THE_WAY

HOOK_SECRET = "hook-secret-for-tests"
HELPDESK_SECRET = "helpdesk-secret-for-tests"
METRICS_TOKEN = "metrics-token-for-tests"
# the stack's rate limits, which no test or benchmark reaches, as settings
NO_RATE_LIMITS = {name.removeprefix("NORDHEM_").lower(): value
                  for name, value in RATE_LIMITS_OUT_OF_THE_WAY.items()}


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        database_url=database_url, hook_secret=HOOK_SECRET, helpdesk_secret=HELPDESK_SECRET,
        rasa_url="http://127.0.0.1:9", actions_url="http://127.0.0.1:9",
        cors_origins="https://shop.example", rasa_timeout_seconds=2, metrics_token=METRICS_TOKEN,
        # no tracker store unless a test gives one: never the developer's .rasa/trackers.db
        tracker_store_url="sqlite://",
        # one test client is one IP creating many conversations: limits out of the way,
        # except where a test sets its own (tests/api/test_rate_limits.py)
        **NO_RATE_LIMITS)
    values.update(overrides)
    return Settings(_env_file=None, **values)


def add_agent(settings: Settings, name: str, **profile: Any) -> str:
    """Store an agent (`profile`: languages, max_conversations, presence, is_admin, active,
    console_language, time_zone; the model's defaults otherwise, except that a test's agent
    reads the console in English unless the test says otherwise); returns its token."""
    profile.setdefault("console_language", "en")
    token = new_token()
    database = Database(settings.database_url)
    with database.sessions() as session:
        session.add(Agent(name=name, token_hash=hash_token(token), **profile))
        session.commit()
    database.engine.dispose()
    return token


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def hook_body(conversation_id: str, **overrides: Any) -> dict[str, Any]:
    body = {"event_id": uuid.uuid4().hex, "sent_at": time.time(),
            "conversation_id": conversation_id, "language": "nb", "reason": "request_human",
            "priority": "normal", "summary": "Customer writes nb; hand-off because: request human.",
            "topics": ["track_order"], "details": {"order_number": "10483921"},
            "transcript": [{"sender": "customer", "text": "hvor er pakken?"},
                           {"sender": "bot", "text": "Den er på vei."}],
            "scorecard": {"welcomed": True, "score": 1.0}}
    body.update(overrides)
    return body


def post_hook(client: TestClient, body: Any, secret: str = HOOK_SECRET,
              path: str = "/hooks/escalations") -> httpx.Response:
    raw = json.dumps(body).encode()
    return client.post(path, content=raw, headers={"Content-Type": "application/json",
                                                   "X-Signature": sign(raw, secret)})


def start(client: TestClient, language: str = "nb") -> tuple[str, str]:
    """A new conversation: (conversation id, customer token)."""
    response = client.post("/api/conversations", json={"language": language})
    assert response.status_code == 201
    return response.json()["conversation_id"], response.json()["customer_token"]


def claimed_escalation(client: TestClient, settings: Settings) -> tuple[str, str, str, int]:
    """A conversation handed off by the bot and claimed by agent Kari:
    (agent token, conversation id, customer token, escalation id)."""
    agent_token = add_agent(settings, "Kari")
    conversation, customer_token = start(client)
    post_hook(client, hook_body(conversation))
    [item] = client.get("/api/escalations", headers=auth(agent_token)).json()
    client.post(f"/api/escalations/{item['id']}/claim", headers=auth(agent_token))
    return agent_token, conversation, customer_token, item["id"]
