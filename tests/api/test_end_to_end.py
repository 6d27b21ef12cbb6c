"""The whole path with the real Rasa server, action server and escalation service."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.api import add_agent, auth, make_settings
from tests.support.live import live_server_socket, receive_until
from tests.support.orders import demo_order
from tests.support.servers import Bot
from tests.support.stack import running_stack

pytestmark = pytest.mark.server


@dataclass
class Running:
    api: str
    bot: Bot
    agent_token: str
    workdir: Path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    workdir = Path(tmp_path_factory.mktemp("e2e"))
    with running_stack(workdir) as running:
        token = add_agent(make_settings(running.database_url), "Kari")
        yield Running(running.api, running.bot, token, workdir)


PERSON = {"nb": "jeg vil snakke med et menneske", "da": "jeg vil gerne tale med en medarbejder",
          "sv": "jag vill prata med en människa"}
QUESTION = {"nb": "hva koster frakten?", "da": "hvad koster fragten til Aarhus?",
            "sv": "vad kostar frakten?"}


def test_health_sees_all_three_services(stack: Running) -> None:
    assert httpx.get(f"{stack.api}/health").json() == {
        "status": "ok", "database": True, "rasa": True, "action_server": True}


@pytest.mark.parametrize("language", ["nb", "da", "sv"])
def test_customer_to_agent_and_back_to_the_bot(stack: Running, language: str) -> None:
    api, agent = stack.api, auth(stack.agent_token)
    started = httpx.post(f"{api}/api/conversations", json={"language": language}).json()
    conversation, customer = started["conversation_id"], auth(started["customer_token"])
    ws_base = api.replace("http", "ws")
    with live_server_socket(f"{ws_base}/ws/agents", stack.agent_token) as agents, \
            live_server_socket(f"{ws_base}/ws/conversations/{conversation}",
                 started["customer_token"]) as customer_socket:
        reply = httpx.post(f"{api}/api/conversations/{conversation}/messages",
                           json={"text": PERSON[language]}, headers=customer, timeout=30).json()
        assert reply["status"] == "queued"
        assert reply["escalation"]["reference"].startswith("NH-")
        assert reply["messages"][-1]["text"].find(reply["escalation"]["reference"]) >= 0
        created = receive_until(agents, lambda e: e["type"] == "escalation.created"
                                and e["escalation"]["conversation_id"] == conversation)
        escalation_id = created["escalation"]["id"]
        detail = httpx.get(f"{api}/api/escalations/{escalation_id}", headers=agent).json()
        assert detail["language"] == language and detail["reason"] == "request_human"
        assert detail["transcript"][0]["text"] == PERSON[language]
        assert detail["summary"]
        # measured by the service from what the customer was actually told (the reference)
        card = detail["scorecard"]
        assert card["welcomed"] is True and card["handed_off"] is True
        assert card["handoff_owned_with_summary"] is True and card["expectations_set"] is True
        assert card["score"] == 1.0

        assert httpx.post(f"{api}/api/escalations/{escalation_id}/claim",
                          headers=agent).status_code == 200
        httpx.post(f"{api}/api/escalations/{escalation_id}/messages",
                   json={"text": "Hei, Kari her. Hva kan jeg hjelpe med?"}, headers=agent)
        pushed = receive_until(customer_socket, lambda e: e["type"] == "message"
                               and e["message"]["sender"] == "agent")
        assert pushed["message"]["text"] == "Hei, Kari her. Hva kan jeg hjelpe med?"
        assert pushed["message"]["agent_name"] == "Kari"

        httpx.post(f"{api}/api/escalations/{escalation_id}/resolve",
                   json={"return_to_bot": True}, headers=agent, timeout=30)
        receive_until(customer_socket, lambda e: e["type"] == "status" and e["status"] == "bot")
        # the agent's part is done: the customer is asked, once, how it went
        receive_until(customer_socket, lambda e: e == {"type": "csat", "state": "asked"})

    answer = httpx.post(f"{api}/api/conversations/{conversation}/messages",
                        json={"text": QUESTION[language]}, headers=customer, timeout=30).json()
    assert answer["status"] == "bot"
    assert answer["messages"][-1]["sender"] == "bot"
    assert stack.bot.slot(conversation, "returned_from_agent") is True
    assert stack.bot.slot(conversation, "language") == language


GOODBYE = {"nb": "takk skal du ha, ha det bra", "da": "tusind tak for hjælpen – farvel",
           "sv": "stort tack för hjälpen, hej då"}


@pytest.mark.parametrize("language", ["nb", "da", "sv"])
def test_the_bots_goodbye_asks_for_a_rating_once(stack: Running, language: str) -> None:
    """A conversation the bot handled alone: an answer, then goodbye; the reply asks for the
    rating (CSAT), the customer gives it, and it counts as bot-only in the scorecard."""
    api = stack.api
    started = httpx.post(f"{api}/api/conversations", json={"language": language}).json()
    conversation, customer = started["conversation_id"], auth(started["customer_token"])
    path = f"{api}/api/conversations/{conversation}/messages"
    answered = httpx.post(path, json={"text": QUESTION[language]}, headers=customer, timeout=30)
    assert answered.json()["csat"] is None
    bye = httpx.post(path, json={"text": GOODBYE[language]}, headers=customer, timeout=30).json()
    assert bye["status"] == "bot" and bye["csat"] == {"state": "asked", "score": None}
    assert all(message["text"] for message in bye["messages"])  # the marker is no message
    rated = httpx.post(f"{api}/api/conversations/{conversation}/csat",
                       json={"score": 5}, headers=customer)
    assert rated.status_code == 200
    again = httpx.post(path, json={"text": GOODBYE[language]}, headers=customer, timeout=30).json()
    assert again["csat"] == {"state": "answered", "score": 5}  # asked once only
    report = httpx.get(f"{api}/api/scorecard", headers=auth(stack.agent_token)).json()["csat"]
    assert report["by_handling"]["bot"]["answered"] >= 1
    assert report["by_reason"]["bot_only"]["scores"]["5"] >= 1


def test_valid_identity_and_card_numbers_are_found_nowhere_after_the_whole_stack(stack: Running) -> None:
    """A seeded corpus through the service, Rasa, the actions and a hand-off; then every
    database file and log of the run is scanned. Invalid numbers and order numbers stay."""
    from tests.core.test_personal_data import INVALID, VALID, spellings

    api = stack.api
    started = httpx.post(f"{api}/api/conversations", json={"language": "nb"}).json()
    customer = auth(started["customer_token"])
    conversation = started["conversation_id"]
    written = [spelling for number in VALID.values() for spelling in spellings(number)]
    for spelling in written:
        httpx.post(f"{api}/api/conversations/{conversation}/messages",
                   json={"text": f"nummeret mitt er {spelling}"}, headers=customer, timeout=30)
    for number in INVALID.values():
        httpx.post(f"{api}/api/conversations/{conversation}/messages",
                   json={"text": f"ordren heter {number}"}, headers=customer, timeout=30)
    httpx.post(f"{api}/api/conversations/{conversation}/messages",
               json={"text": PERSON["nb"]}, headers=customer, timeout=30)  # the hand-off's transcript
    files = [path for path in stack.workdir.rglob("*") if path.is_file()]
    stored = b"\n".join(path.read_bytes() for path in files)
    assert any(path.name == "trackers.db" for path in files)
    for spelling in written:  # as written, and as JSON writes it ("\\u2013", "\\u00a0")
        for form in (spelling.encode(), json.dumps(spelling)[1:-1].encode()):
            assert form not in stored, spelling
    for number in ("40918273", "NH-40918273", "15076500566"):
        assert number.encode() in stored, number


WHERE_IS_IT = {"nb": "hei, hvor er pakken min?", "da": "hej, hvor er min pakke?",
               "sv": "hej, var är mitt paket?"}
COUNTRY = {"nb": "NO", "da": "DK", "sv": "SE"}


@pytest.mark.parametrize("language", ["nb", "da", "sv"])
def test_where_is_my_order_through_the_service(stack: Running, language: str) -> None:
    """The order-status conversation through the service's public contract: nothing about
    the order before the e-mail matches, then its tracking number, and no hand-off."""
    order = demo_order(stack.workdir, COUNTRY[language])
    api = stack.api
    started = httpx.post(f"{api}/api/conversations", json={"language": language}).json()
    customer = auth(started["customer_token"])
    path = f"{api}/api/conversations/{started['conversation_id']}/messages"

    def say(text: str) -> str:
        reply = httpx.post(path, json={"text": text}, headers=customer, timeout=60).json()
        assert reply["status"] == "bot", reply
        return " ".join(message["text"] for message in reply["messages"])

    say(WHERE_IS_IT[language])
    asked = say(order["number"])
    assert order["tracking_number"] not in asked and "@" not in asked
    told = say(order["email"].upper())
    assert order["tracking_number"] in told
