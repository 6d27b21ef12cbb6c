"""Health, metrics, the agent CLI and restarts (the state machines: test_state.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from tests.support.api import (
    auth,
    claimed_escalation,
    hook_body,
    make_settings,
    post_hook,
    start,
)

ROOT = Path(__file__).resolve().parents[2]


def test_health_reports_database_rasa_and_actions(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body == {"status": "degraded", "database": True, "rasa": False,
                    "action_server": False}


def test_metrics_expose_conversations_handoffs_queue_and_containment(
    client: TestClient, agent_token: str
) -> None:
    conversation, _ = start(client)
    start(client)
    post_hook(client, hook_body(conversation, reason="complaint"))
    text = client.get("/metrics").text
    assert 'nordhem_handoffs_total{reason="complaint"}' in text
    assert "nordhem_queue_length 1.0" in text
    assert "nordhem_containment_rate 0.5" in text
    assert "nordhem_conversations_started_total" in text


def test_agent_cli_prints_a_token_that_is_stored_only_hashed(settings: Settings) -> None:
    env = {**os.environ, "NORDHEM_DATABASE_URL": settings.database_url, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "api", "agents", "create", "Lise"], cwd=ROOT,
                            env=env, capture_output=True, text=True, check=True)
    token = result.stdout.strip()
    assert len(token) >= 40
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/agents/me", headers=auth(token)).json()["name"] == "Lise"
    from api.db import Database
    from api.models import Agent

    database = Database(settings.database_url)
    with database.sessions() as session:
        stored = [a.token_hash for a in session.query(Agent).all()]
    database.engine.dispose()
    assert token not in stored
    empty = subprocess.run([sys.executable, "-m", "api", "agents", "create", " "], cwd=ROOT,
                           env=env, capture_output=True, text=True)
    assert empty.returncode == 2


def test_restart_in_the_middle_of_an_escalation_loses_nothing(database_url: str) -> None:
    settings = make_settings(database_url)
    with TestClient(create_app(settings)) as client:
        agent_token, conversation, token, escalation_id = claimed_escalation(client, settings)
        client.post(f"/api/conversations/{conversation}/messages", json={"text": "før"},
                    headers=auth(token))
    with TestClient(create_app(settings)) as restarted:
        detail = restarted.get(f"/api/escalations/{escalation_id}", headers=auth(agent_token)).json()
        assert detail["status"] == "with_agent" and detail["agent_name"] == "Kari"
        assert detail["messages"][-1]["text"] == "før"
        sent = restarted.post(f"/api/escalations/{escalation_id}/messages", json={"text": "etter"},
                              headers=auth(agent_token))
        assert sent.status_code == 201
        history = restarted.get(f"/api/conversations/{conversation}/messages",
                                headers=auth(token)).json()["messages"]
        assert [m["text"] for m in history][-2:] == ["før", "etter"]
