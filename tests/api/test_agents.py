"""Agents: their profile and presence, what an admin may change over the API, the same on
the command line, and the console's socket as presence."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, get_args

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.__main__ import main
from api.db import Database
from api.models import AGENT_LANGUAGES, Agent
from api.schemas import AgentLanguage
from api.services import agents, escalations
from api.settings import Settings, get_settings
from tests.support.api import add_agent, auth, hook_body, post_hook, start
from tests.support.live import live_socket
from tests.support.waiting import wait_for


@pytest.fixture
def admin_token(client: TestClient, settings: Settings) -> str:
    return add_agent(settings, "Admin", is_admin=True)


def me(client: TestClient, token: str) -> dict[str, Any]:
    response = client.get("/api/agents/me", headers=auth(token))
    assert response.status_code == 200, response.text
    return response.json()


def new_agent(client: TestClient, admin_token: str, **body: Any) -> dict[str, Any]:
    response = client.post("/api/agents", json={"name": "Sofie", **body}, headers=auth(admin_token))
    assert response.status_code == 201, response.text
    return response.json()


def escalate(client: TestClient, language: str = "nb") -> int:
    conversation, _ = start(client, language)
    assert post_hook(client, hook_body(conversation, language=language)).status_code == 201
    return conversation_escalation(client, conversation)


def conversation_escalation(client: TestClient, conversation: str) -> int:
    with client.app.state.hub.database.sessions() as session:
        escalation = escalations.open_for_conversation(session, conversation)
        assert escalation is not None
        return escalation.id


def test_the_agent_languages_of_the_contract_are_those_of_the_model() -> None:
    assert get_args(AgentLanguage) == AGENT_LANGUAGES


# ---------- one's own profile and presence ----------

def test_me_is_the_profile_with_the_conversations_held(client: TestClient,
                                                       settings: Settings) -> None:
    token = add_agent(settings, "Kari", languages=["nb", "da"], max_conversations=4)
    profile = me(client, token)
    assert profile == {
        "id": profile["id"], "name": "Kari", "languages": ["nb", "da"],
        "max_conversations": 4, "presence": "offline", "is_admin": False, "active": True,
        "open_conversations": 0, "console_language": "en", "time_zone": "Europe/Oslo"}
    escalation_id = escalate(client, "da")
    assert client.post(f"/api/escalations/{escalation_id}/claim",
                       headers=auth(token)).status_code == 200
    assert me(client, token)["open_conversations"] == 1
    assert client.get("/api/agents/me").status_code == 401
    assert client.get("/api/agents/me", headers=auth("not-a-token")).status_code == 401


def test_an_agent_sets_their_presence(client: TestClient, agent_token: str) -> None:
    url = "/api/agents/me/presence"
    for presence in ("away", "online", "offline"):
        response = client.put(url, json={"presence": presence}, headers=auth(agent_token))
        assert response.status_code == 200 and response.json()["presence"] == presence
        assert me(client, agent_token)["presence"] == presence
    for body in ({"presence": "busy"}, {}, {"presence": "away", "mood": "good"}, ["away"]):
        assert client.put(url, json=body, headers=auth(agent_token)).status_code == 422, body
    assert client.put(url, json={"presence": "away"}).status_code == 401
    assert me(client, agent_token)["presence"] == "offline"


# ---------- what an admin may do ----------

def test_only_an_admin_manages_agents(client: TestClient, agent_token: str,
                                      admin_token: str) -> None:
    kari = me(client, agent_token)["id"]
    calls = [("GET", "/api/agents", None), ("POST", "/api/agents", {"name": "Ny"}),
             ("PATCH", f"/api/agents/{kari}", {"max_conversations": 5}),
             ("POST", f"/api/agents/{kari}/rotate", None)]
    for method, url, body in calls:
        assert client.request(method, url, json=body).status_code == 401, url
        refused = client.request(method, url, json=body, headers=auth(agent_token))
        assert refused.status_code == 403 and "admin" in refused.json()["detail"], url
    assert me(client, agent_token)["max_conversations"] == 3
    assert client.request("GET", "/api/agents", headers=auth(admin_token)).status_code == 200


def test_an_admin_creates_an_agent_whose_token_is_shown_once_and_stored_hashed(
        client: TestClient, admin_token: str, settings: Settings) -> None:
    created = new_agent(client, admin_token, languages=["sv", "nb", "sv"], max_conversations=5)
    token = created.pop("token")
    assert created == {**created, "name": "Sofie", "languages": ["nb", "sv"],
                       "max_conversations": 5, "presence": "offline", "is_admin": False,
                       "active": True, "open_conversations": 0}
    assert me(client, token)["id"] == created["id"]
    listed = client.get("/api/agents", headers=auth(admin_token)).json()
    assert [agent["name"] for agent in listed] == ["Admin", "Sofie"]
    assert all("token" not in agent for agent in listed)
    database = Database(settings.database_url)
    with database.sessions() as session:
        assert token not in session.scalars(select(Agent.token_hash)).all()
    database.engine.dispose()
    default = new_agent(client, admin_token, name="Lars")
    assert default["languages"] == ["nb", "da", "sv"] and default["max_conversations"] == 3


@pytest.mark.parametrize("body", [
    {"name": ""}, {"name": "   "}, {"name": "x" * 101}, {"name": "Kari\nAdmin"}, {},
    {"name": "Kari", "languages": []}, {"name": "Kari", "languages": ["de"]},
    {"name": "Kari", "languages": "nb"}, {"name": "Kari", "max_conversations": 0},
    {"name": "Kari", "max_conversations": 21}, {"name": "Kari", "max_conversations": 2.5},
    {"name": "Kari", "is_admin": "yes"},
    {"name": "Kari", "token": "chosen"}])
def test_a_new_agent_with_bad_fields_is_refused(client: TestClient, admin_token: str,
                                                body: dict[str, Any]) -> None:
    response = client.post("/api/agents", json=body, headers=auth(admin_token))
    assert response.status_code == 422
    assert len(client.get("/api/agents", headers=auth(admin_token)).json()) == 1


def test_names_are_unique_among_active_agents(client: TestClient, admin_token: str) -> None:
    first = new_agent(client, admin_token, name="Sofie")
    twin = client.post("/api/agents", json={"name": "sofie"}, headers=auth(admin_token))
    assert twin.status_code == 409 and "already called" in twin.json()["detail"]
    client.patch(f"/api/agents/{first['id']}", json={"active": False}, headers=auth(admin_token))
    second = new_agent(client, admin_token, name="Sofie")  # the name is free again
    back = client.patch(f"/api/agents/{first['id']}", json={"active": True},
                        headers=auth(admin_token))
    assert back.status_code == 409
    assert second["active"] is True


def test_an_admin_changes_languages_and_capacity_and_the_rest_stays(
        client: TestClient, admin_token: str) -> None:
    agent = new_agent(client, admin_token, languages=["nb"], max_conversations=2)
    url = f"/api/agents/{agent['id']}"
    changed = client.patch(url, json={"languages": ["da", "sv"]}, headers=auth(admin_token))
    assert changed.status_code == 200
    assert changed.json()["languages"] == ["da", "sv"] and changed.json()["max_conversations"] == 2
    changed = client.patch(url, json={"max_conversations": 7, "is_admin": True},
                           headers=auth(admin_token)).json()
    assert changed["languages"] == ["da", "sv"] and changed["max_conversations"] == 7
    assert changed["is_admin"] is True
    assert me(client, agent["token"])["max_conversations"] == 7


@pytest.mark.parametrize("url,body,status", [
    ("/api/agents/999999", {"max_conversations": 4}, 404),
    ("/api/agents/0", {"max_conversations": 4}, 422),
    ("/api/agents/99999999999", {"max_conversations": 4}, 422),
    ("/api/agents/abc", {"max_conversations": 4}, 422),
    ("{me}", {}, 422),
    ("{me}", {"languages": None}, 422),
    ("{me}", {"languages": []}, 422),
    ("{me}", {"max_conversations": 21}, 422),
    ("{me}", {"name": "Renamed"}, 422),
    ("{me}", {"active": "no"}, 422),
    ("{me}", {"is_admin": 1}, 422),
    ("{me}", {"max_conversations": "4"}, 422),
])
def test_a_bad_change_is_refused(client: TestClient, admin_token: str, agent_token: str,
                                 url: str, body: dict[str, Any], status: int) -> None:
    url = url.replace("{me}", f"/api/agents/{me(client, agent_token)['id']}")
    assert client.patch(url, json=body, headers=auth(admin_token)).status_code == status
    assert me(client, agent_token)["max_conversations"] == 3


def test_a_deactivated_agent_cannot_sign_in_and_is_kept(client: TestClient, admin_token: str,
                                                        agent_token: str) -> None:
    kari = me(client, agent_token)["id"]
    escalation_id = escalate(client)
    client.post(f"/api/escalations/{escalation_id}/claim", headers=auth(agent_token))
    held = client.patch(f"/api/agents/{kari}", json={"active": False}, headers=auth(admin_token))
    assert held.status_code == 409 and "1 open conversation" in held.json()["detail"]
    client.post(f"/api/escalations/{escalation_id}/resolve", json={}, headers=auth(agent_token))
    gone = client.patch(f"/api/agents/{kari}", json={"active": False}, headers=auth(admin_token))
    assert gone.status_code == 200
    assert gone.json()["active"] is False and gone.json()["presence"] == "offline"
    assert client.get("/api/agents/me", headers=auth(agent_token)).status_code == 401
    listed = {a["name"]: a for a in client.get("/api/agents", headers=auth(admin_token)).json()}
    assert listed["Kari"]["active"] is False
    history = client.get(f"/api/escalations/{escalation_id}", headers=auth(admin_token)).json()
    assert history["agent_name"] == "Kari"
    client.patch(f"/api/agents/{kari}", json={"active": True}, headers=auth(admin_token))
    assert me(client, agent_token)["active"] is True


def test_an_admin_cannot_lock_themselves_out(client: TestClient, admin_token: str) -> None:
    admin = me(client, admin_token)["id"]
    for body in ({"active": False}, {"is_admin": False}):
        refused = client.patch(f"/api/agents/{admin}", json=body, headers=auth(admin_token))
        assert refused.status_code == 409 and "themselves" in refused.json()["detail"]
    assert me(client, admin_token)["is_admin"] is True


def test_rotating_a_token_stops_the_old_one(client: TestClient, admin_token: str,
                                            agent_token: str) -> None:
    kari = me(client, agent_token)["id"]
    rotated = client.post(f"/api/agents/{kari}/rotate", headers=auth(admin_token))
    assert rotated.status_code == 200 and rotated.json()["name"] == "Kari"
    assert client.get("/api/agents/me", headers=auth(agent_token)).status_code == 401
    assert me(client, rotated.json()["token"])["id"] == kari
    assert client.post("/api/agents/999999/rotate", headers=auth(admin_token)).status_code == 404
    assert client.post("/api/agents/0/rotate", headers=auth(admin_token)).status_code == 422


# ---------- the console's socket as presence ----------

def test_opening_the_console_puts_an_offline_agent_online_until_the_last_one_closes(
        client: TestClient, agent_token: str) -> None:
    with live_socket(client, "/ws/agents", agent_token):
        assert me(client, agent_token)["presence"] == "online"
        with live_socket(client, "/ws/agents", agent_token):
            pass
        # a second tab closing leaves the agent online: the first is still open
        assert me(client, agent_token)["presence"] == "online"
    wait_for(lambda: me(client, agent_token)["presence"] == "offline", 10,
             "offline once the last console closed")


def test_an_away_agent_stays_away_when_the_console_opens_and_closes(
        client: TestClient, agent_token: str) -> None:
    client.put("/api/agents/me/presence", json={"presence": "away"}, headers=auth(agent_token))
    with live_socket(client, "/ws/agents", agent_token):
        assert me(client, agent_token)["presence"] == "away"
    sessions = client.app.state.hub.database.sessions
    kari = me(client, agent_token)["id"]
    assert agents.console_connected(sessions, kari) is False
    agents.console_gone(sessions, kari)  # what the last socket's end does, run here to the end
    assert me(client, agent_token)["presence"] == "away"


# ---------- the command line ----------

@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """`python -m api agents ...` in this process: (exit code, stdout, stderr)."""
    monkeypatch.setenv("NORDHEM_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()

    def run(*words: str) -> tuple[int, str, str]:
        try:
            code = main(["agents", *words])
        except SystemExit as exit_:  # argparse refuses bad arguments with exit 2
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    yield run
    get_settings.cache_clear()


def rows(listing: str) -> dict[str, list[str]]:
    """`agents list` by name: id, name, languages, open/max, presence, state, admin, token."""
    header, *lines = listing.strip().splitlines()
    assert header.split("\t")[:4] == ["id", "name", "languages", "open/max"]
    return {line.split("\t")[1]: line.split("\t") for line in lines}


def test_the_command_line_creates_lists_and_changes_agents(cli: Any, client: TestClient) -> None:
    code, token, _ = cli("create", "Mette", "--languages", "da,en", "--capacity", "4", "--admin")
    assert code == 0
    profile = me(client, token.strip())
    assert (profile["languages"], profile["max_conversations"], profile["is_admin"]) == (
        ["da", "en"], 4, True)
    assert cli("create", "Ola")[0] == 0
    listed = rows(cli("list")[1])
    assert listed["Mette"][2:7] == ["da,en", "0/4", "offline", "active", "admin"]
    assert listed["Ola"][2:7] == ["nb,da,sv", "0/3", "offline", "active", "-"]

    code, out, _ = cli("set", "Ola", "--languages", "sv", "--capacity", "6")
    assert code == 0 and rows(out)["Ola"][2:4] == ["sv", "0/6"]
    assert cli("set", "Ola", "--admin")[0] == 0 and rows(cli("list")[1])["Ola"][6] == "admin"
    assert cli("set", "Ola", "--no-admin")[0] == 0 and rows(cli("list")[1])["Ola"][6] == "-"
    code, out, _ = cli("deactivate", "Ola")
    assert code == 0 and rows(out)["Ola"][5] == "deactivated"
    assert cli("activate", "Ola")[0] == 0 and rows(cli("list")[1])["Ola"][5] == "active"


@pytest.mark.parametrize("words,code,message", [
    (("create", "Per", "--languages", "nb,de"), 2, "unknown language 'de'"),
    (("create", "Per", "--languages", ","), 2, "at least one language"),
    (("create", "Per", "--capacity", "0"), 2, "from 1 to 20"),
    (("create", "Per", "--capacity", "many"), 2, "from 1 to 20"),
    (("create", " "), 2, "1-100 characters"),
    (("set", "Kari"), 2, "give --languages, --capacity or --admin"),
    (("set", "Nobody", "--capacity", "4"), 2, "no agent called 'Nobody'"),
    (("deactivate", "Nobody"), 2, "no agent called 'Nobody'"),
    (("create", "kari"), 1, "already called 'kari'"),
])
def test_the_command_line_refuses_with_a_reason(cli: Any, words: tuple[str, ...], code: int,
                                                message: str) -> None:
    assert cli("create", "Kari")[0] == 0
    exit_code, _, err = cli(*words)
    assert exit_code == code and message in err
    assert list(rows(cli("list")[1])) == ["Kari"]


def test_the_command_line_keeps_an_agent_with_open_conversations_active(
        cli: Any, client: TestClient) -> None:
    _, token, _ = cli("create", "Kari")
    escalation_id = escalate(client)
    client.post(f"/api/escalations/{escalation_id}/claim", headers=auth(token.strip()))
    code, _, err = cli("deactivate", "Kari")
    assert code == 1 and "1 open conversation" in err
    assert rows(cli("list")[1])["Kari"][5] == "active"

