"""The console in the agent's language (nb, da, sv, en): the labels, the agent's choice of
language and time zone, and the hand-off summary the service writes for the agent."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import pytest
import yaml
from fastapi.testclient import TestClient

from api.models import CONSOLE_LANGUAGES
from api.schemas import ConsoleLanguage
from api.services import escalations
from api.services.summaries import written_summary
from api.texts import console_summary
from tests.api.test_agents import cli  # noqa: F401  (the command-line fixture)
from tests.support.api import add_agent, auth, hook_body, post_hook, start

CONSOLE = yaml.safe_load((Path(__file__).resolve().parents[2] / "content" / "console.yml")
                         .read_text(encoding="utf-8"))
PREFERENCES = "/api/agents/me/preferences"
# a Danish customer's late parcel: verified by the bot, which had answered the shipping costs
ORDER_FACTS = {"order_number": "NH-40918273", "email": "mette@example.dk",
               "verified_order": "40918273", "order_status": "delayed", "carrier": "PostNord",
               "tracking_number": "00370712345678901234",
               "tracking_link": "https://tracking.postnord.com/da/?id=00370712345678901234",
               "expected_delivery": "2026-12-04", "payment_method": "mobilepay"}


def labels(client: TestClient, token: str, **params: str) -> dict[str, Any]:
    response = client.get("/api/labels", params=params, headers=auth(token))
    assert response.status_code == 200, response.text
    return response.json()


def late_parcel(client: TestClient, **overrides: Any) -> int:
    """A Danish hand-off of a late parcel with its order's facts and two topics, the
    shipping costs answered; its escalation id."""
    conversation, _ = start(client, "da")
    body = hook_body(conversation, language="da", reason="late_delivery", priority="high",
                     summary="Customer writes da; hand-off because: late delivery.",
                     topics=["shipping_cost", "track_order"], answered=["shipping_cost"],
                     details=ORDER_FACTS)
    body.update(overrides)
    assert post_hook(client, body).status_code == 201
    with client.app.state.hub.database.sessions() as session:
        escalation = escalations.open_for_conversation(session, conversation)
        assert escalation is not None
        return escalation.id


def detail(client: TestClient, token: str, escalation_id: int) -> dict[str, Any]:
    response = client.get(f"/api/escalations/{escalation_id}", headers=auth(token))
    assert response.status_code == 200, response.text
    return response.json()


def test_the_console_languages_of_the_contract_are_those_of_the_model() -> None:
    assert get_args(ConsoleLanguage) == CONSOLE_LANGUAGES


# ---------- labels ----------

@pytest.mark.parametrize("language", CONSOLE_LANGUAGES)
def test_labels_come_in_the_language_asked_for(client: TestClient, agent_token: str,
                                               language: str) -> None:
    served = labels(client, agent_token, language=language)
    assert served["language"] == language
    assert served["ui"]["logout"] == CONSOLE["ui"]["logout"][language]
    assert served["reasons"]["late_delivery"] == CONSOLE["reasons"]["late_delivery"][language]
    assert served["topics"]["track_order"] == CONSOLE["topics"]["track_order"][language]
    assert served["languages"]["da"] == {"badge": "DK",
                                         "name": CONSOLE["languages"]["da"]["name"][language]}
    # the switcher names each language in its own words, whatever the console's language
    assert served["console_languages"] == CONSOLE["console_languages"]
    assert "needs" not in served and "summaries" not in served


def test_labels_are_in_the_agents_console_language_unless_asked_otherwise(
        client: TestClient, settings: Any) -> None:
    swedish = add_agent(settings, "Sven", languages=["da", "sv"], console_language="sv")
    assert labels(client, swedish)["ui"]["send"] == "Skicka"
    assert labels(client, swedish, language="da")["ui"]["send"] == "Send"
    # an agent who chose nothing reads the first customer language they serve
    danish = add_agent(settings, "Dorte", languages=["da", "en"], console_language=None)
    assert labels(client, danish)["language"] == "da"
    english = add_agent(settings, "Emma", languages=["en"], console_language=None)
    assert labels(client, english)["language"] == "en"


def test_labels_refuse_an_unknown_language_and_a_missing_token(client: TestClient,
                                                               agent_token: str) -> None:
    assert client.get("/api/labels", params={"language": "de"},
                      headers=auth(agent_token)).status_code == 422
    assert client.get("/api/labels").status_code == 401
    assert client.get("/api/labels", headers=auth("not-a-token")).status_code == 401


def test_the_login_page_gets_the_consoles_own_texts_without_a_token(client: TestClient) -> None:
    response = client.get("/api/labels/login", params={"language": "sv"})
    assert response.status_code == 200
    served = response.json()
    assert served["language"] == "sv" and served["ui"]["login_button"] == "Logga in"
    assert set(served) == {"language", "ui", "console_languages"}  # nothing about conversations
    assert client.get("/api/labels/login").json()["language"] == "en"
    assert client.get("/api/labels/login", params={"language": "fi"}).status_code == 422


# ---------- the agent's preferences ----------

def test_an_agent_chooses_their_console_language_and_time_zone(client: TestClient,
                                                               agent_token: str) -> None:
    response = client.put(PREFERENCES, json={"console_language": "sv",
                                             "time_zone": "Europe/Stockholm"},
                          headers=auth(agent_token))
    assert response.status_code == 200, response.text
    profile = response.json()
    assert (profile["console_language"], profile["time_zone"]) == ("sv", "Europe/Stockholm")
    assert labels(client, agent_token)["language"] == "sv"
    # what is left out stays as it is
    client.put(PREFERENCES, json={"time_zone": "Europe/Copenhagen"}, headers=auth(agent_token))
    me = client.get("/api/agents/me", headers=auth(agent_token)).json()
    assert (me["console_language"], me["time_zone"]) == ("sv", "Europe/Copenhagen")


@pytest.mark.parametrize("body", [
    {"console_language": "de"}, {"console_language": "NB"}, {"time_zone": "Mars/Olympus"},
    {"time_zone": "../../etc/passwd"}, {"time_zone": ""}, {"time_zone": "x" * 65},
    {"time_zone": 1}, {}, {"console_language": None}, {"console_language": "sv", "theme": "dark"},
    ["sv"]])
def test_preferences_refuse_an_unknown_language_or_time_zone(client: TestClient, agent_token: str,
                                                             body: Any) -> None:
    response = client.put(PREFERENCES, json=body, headers=auth(agent_token))
    assert response.status_code == 422, body
    me = client.get("/api/agents/me", headers=auth(agent_token)).json()
    assert (me["console_language"], me["time_zone"]) == ("en", "Europe/Oslo")


def test_preferences_need_the_agents_token(client: TestClient) -> None:
    assert client.put(PREFERENCES, json={"console_language": "sv"}).status_code == 401
    assert client.put(PREFERENCES, json={"console_language": "sv"},
                      headers=auth("guess")).status_code == 401


def test_an_admin_sets_an_agents_console_language_and_time_zone(client: TestClient,
                                                                settings: Any) -> None:
    admin = add_agent(settings, "Admin", is_admin=True)
    created = client.post("/api/agents", json={"name": "Sofie", "languages": ["sv", "da"]},
                          headers=auth(admin)).json()
    assert (created["console_language"], created["time_zone"]) == ("da", "Europe/Oslo")
    url = f"/api/agents/{created['id']}"
    changed = client.patch(url, json={"console_language": "sv", "time_zone": "Europe/Stockholm"},
                           headers=auth(admin))
    assert changed.status_code == 200
    assert (changed.json()["console_language"], changed.json()["time_zone"]) == (
        "sv", "Europe/Stockholm")
    for body in ({"time_zone": "Europe/Narnia"}, {"console_language": "fi"}):
        assert client.patch(url, json=body, headers=auth(admin)).status_code == 422


def test_the_command_line_sets_the_console_language_and_time_zone(
        cli: Any, client: TestClient) -> None:  # noqa: F811
    _, token, _ = cli("create", "Sven", "--languages", "sv")
    code, out, _ = cli("set", "Sven", "--console-language", "en", "--time-zone",
                       "Europe/Stockholm")
    assert code == 0 and out.splitlines()[1].split("\t")[-2:] == ["en", "Europe/Stockholm"]
    me = client.get("/api/agents/me", headers=auth(token.strip())).json()
    assert (me["console_language"], me["time_zone"]) == ("en", "Europe/Stockholm")
    code, _, err = cli("set", "Sven", "--time-zone", "Europe/Atlantis")
    assert code == 2 and "unknown time zone" in err
    code, _, err = cli("set", "Sven", "--console-language", "fi")
    assert code == 2 and "invalid choice" in err


# ---------- the summary written for the agent ----------

@pytest.mark.parametrize("language", CONSOLE_LANGUAGES)
def test_the_summary_names_the_need_facts_topics_and_answers_in_the_agents_language(
        client: TestClient, settings: Any, language: str) -> None:
    token = add_agent(settings, "Agent", languages=["da"], console_language=language)
    escalation_id = late_parcel(client)
    summary = detail(client, token, escalation_id)["summary"]
    need = CONSOLE["needs"]["late_delivery"][language]
    assert summary.startswith(need)
    assert "40918273" in summary and "mette@example.dk" in summary
    assert CONSOLE["order_statuses"]["delayed"][language] in summary
    for topic in ("shipping_cost", "track_order"):
        assert CONSOLE["topics"][topic][language] in summary
    assert CONSOLE["summaries"]["answered"][language].format(
        topics=CONSOLE["topics"]["shipping_cost"][language]) in summary
    assert "None" not in summary and "{" not in summary
    # the number the customer typed is the verified one: named once
    assert summary.count("40918273") == 1
    [queued] = client.get("/api/escalations", headers=auth(token)).json()
    assert queued["summary"] == summary


def test_the_summary_in_swedish_and_english_reads_as_written(client: TestClient,
                                                             settings: Any) -> None:
    swedish = add_agent(settings, "Sven", languages=["da", "sv"], console_language="sv")
    english = add_agent(settings, "Emma", languages=["da"], console_language="en")
    escalation_id = late_parcel(client)
    assert detail(client, swedish, escalation_id)["summary"] == (
        "Kundens order är försenad och kunden vill ha hjälp. Uppgifter: ordernummer 40918273 "
        "(bekräftad av boten), status försenad, transportör PostNord, spårningsnummer "
        "00370712345678901234, beräknad leverans 2026-12-04, betalat med MobilePay, e-post "
        "mette@example.dk. Ämnen: fraktkostnader och spårning av order. Boten har redan "
        "svarat på: fraktkostnader.")
    assert detail(client, english, escalation_id)["summary"] == (
        "The customer's order is late and they want help. Facts: order number 40918273 "
        "(verified by the bot), status delayed, carrier PostNord, tracking number "
        "00370712345678901234, expected delivery 2026-12-04, paid with MobilePay, e-mail "
        "mette@example.dk. Topics: shipping costs and order tracking. The bot already "
        "answered: shipping costs.")


def test_the_need_names_the_topics_the_bot_did_not_answer(client: TestClient,
                                                          settings: Any) -> None:
    token = add_agent(settings, "Nora", languages=["nb"], console_language="nb")
    conversation, _ = start(client)
    post_hook(client, hook_body(conversation, topics=["return_policy", "refund_status"],
                                answered=["return_policy"], details={"phone": "+4791234567"}))
    [item] = client.get("/api/escalations", headers=auth(token)).json()
    assert item["summary"] == (
        "Kunden vil snakke med en person angående tilbakebetaling. Opplysninger: telefon "
        "+4791234567. Emner: retur/angrerett og tilbakebetaling. Boten har allerede svart på: "
        "retur/angrerett.")


def test_a_summary_leaves_out_what_it_has_nothing_to_say_about(client: TestClient,
                                                               settings: Any) -> None:
    token = add_agent(settings, "Dorte", languages=["da"], console_language="da")
    conversation, _ = start(client, "da")
    post_hook(client, hook_body(conversation, language="da", reason="abuse", topics=[],
                                details={}, summary="Customer writes da; hand-off because: abuse."))
    [item] = client.get("/api/escalations", headers=auth(token)).json()
    assert item["summary"] == CONSOLE["needs"]["abuse"]["da"]
    # the bot's own text is kept as it came, for helpdesks
    assert item["bot_summary"] == "Customer writes da; hand-off because: abuse."


def test_an_older_bots_hook_without_answered_is_taken(client: TestClient, agent_token: str) -> None:
    conversation, _ = start(client)
    body = hook_body(conversation)
    assert "answered" not in body
    assert post_hook(client, body).status_code == 201
    [item] = client.get("/api/escalations", headers=auth(agent_token)).json()
    shown = detail(client, agent_token, item["id"])
    assert shown["answered"] == [] and "already answered" not in shown["summary"]


def test_a_hook_with_a_malformed_answered_is_refused(client: TestClient) -> None:
    conversation, _ = start(client)
    for answered in ("shipping_cost", [1], ["x" * 61], ["t"] * 101):
        response = post_hook(client, hook_body(conversation, answered=answered))
        assert response.status_code == 422, answered


def test_an_unknown_reason_still_gets_a_need_sentence() -> None:
    assert written_summary("sv", "new_reason", ["gift_card"], {}) == (
        "Kunden behöver hjälp angående presentkort. Ämnen: presentkort.")


def test_the_services_own_hand_off_says_the_bot_was_down_in_the_agents_language() -> None:
    stored = console_summary("bot_unavailable", language="da")
    assert stored.startswith("Asked for a person while the bot could not answer")
    for language in CONSOLE_LANGUAGES:
        assert written_summary(language, "request_human", [], {}, [], stored, "da") == \
            CONSOLE["needs"]["bot_unavailable"][language]
