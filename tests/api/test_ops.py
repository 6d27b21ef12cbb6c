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
    METRICS_TOKEN,
    add_agent,
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


def test_live_answers_while_rasa_is_down_for_the_load_balancer(client: TestClient) -> None:
    # /health above says Rasa does not answer; the process itself serves requests
    assert client.get("/live").json() == {"status": "ok"}


def test_metrics_expose_conversations_handoffs_queue_and_containment(
    client: TestClient, agent_token: str
) -> None:
    conversation, _ = start(client)
    start(client)
    post_hook(client, hook_body(conversation, reason="complaint"))
    # the test client is no caller on this machine: without the metrics token, refused
    assert client.get("/metrics").status_code == 403
    text = client.get("/metrics", headers=auth(METRICS_TOKEN)).text
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


def test_metrics_without_a_token_configured_answer_only_this_machine() -> None:
    from starlette.requests import Request

    from api.routers.ops import metrics_allowed

    def request(host: str, authorization: str = "") -> Request:
        headers = [(b"authorization", authorization.encode())] if authorization else []
        return Request({"type": "http", "client": (host, 5000), "headers": headers})

    open_settings = make_settings("sqlite://", metrics_token="")
    assert metrics_allowed(request("127.0.0.1"), open_settings)
    assert metrics_allowed(request("::1"), open_settings)
    assert not metrics_allowed(request("10.1.2.3"), open_settings)
    guarded = make_settings("sqlite://", metrics_token=METRICS_TOKEN)
    assert not metrics_allowed(request("127.0.0.1"), guarded)
    assert metrics_allowed(request("10.1.2.3", f"Bearer {METRICS_TOKEN}"), guarded)


def test_a_webhook_without_a_secret_refuses_to_start() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="WEBHOOK_SECRET"):
        make_settings("sqlite://", webhook_urls="https://helpdesk.example/hook", webhook_secret="")


def test_a_body_over_the_cap_is_refused_before_it_is_read_or_authenticated(
        client: TestClient) -> None:
    big = b"x" * (70 * 1024)
    for path in ("/hooks/escalations", "/api/conversations", "/hooks/helpdesk/messages"):
        response = client.post(path, content=big, headers={"Content-Type": "application/json"})
        assert response.status_code == 413, path

    def chunks():
        for _ in range(80):
            yield b"x" * 1024

    response = client.post("/hooks/escalations", content=chunks(),
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_the_console_forbids_framing_and_foreign_scripts(client: TestClient) -> None:
    headers = client.get("/agent").headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "script-src" not in headers["content-security-policy"]  # default-src 'self' only
    assert headers["x-frame-options"] == "DENY"


def test_an_agent_token_can_be_rotated_and_revoked_from_the_command_line(settings: Settings) -> None:
    env = {**os.environ, "NORDHEM_DATABASE_URL": settings.database_url, "PYTHONPATH": str(ROOT)}

    def cli(*words: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "api", "agents", *words], cwd=ROOT, env=env,
                              capture_output=True, text=True)

    old = cli("create", "Mette").stdout.strip()
    new = cli("rotate", "Mette").stdout.strip()
    assert new and new != old
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/agents/me", headers=auth(old)).status_code == 401
        assert client.get("/api/agents/me", headers=auth(new)).status_code == 200
        assert "revoked" in cli("revoke", "Mette").stdout
        assert client.get("/api/agents/me", headers=auth(new)).status_code == 401
    assert "revoked" in cli("list").stdout
    assert cli("revoke", "Nobody").returncode == 2


def test_an_agent_token_expires_after_its_lifetime(settings: Settings) -> None:
    import datetime as dt

    from api.migrate import upgrade

    upgrade(settings.database_url)
    token = add_agent(settings, "Ola")
    issued_now = dt.datetime.now(dt.timezone.utc)
    day_91 = issued_now + dt.timedelta(days=91)
    with TestClient(create_app(settings, clock=lambda: issued_now)) as client:
        assert client.get("/api/agents/me", headers=auth(token)).status_code == 200
    with TestClient(create_app(settings, clock=lambda: day_91)) as client:
        response = client.get("/api/agents/me", headers=auth(token))
        assert response.status_code == 401 and "expired" in response.json()["detail"]
