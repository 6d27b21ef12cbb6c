"""A customer message with a `client_message_id` is stored and answered once, however often it
is sent: a repeat gets the first answer (200), or 409 with Retry-After while that answer is
being made, or 409 if the id came with another text; identical requests at the same moment
store it once; a repeat after the first attempt was lost (its process died) answers it.

Rasa is a stand-in on a real local HTTP server (as in tests/api/test_overload.py) that counts
what it is asked and answers when the test lets it, so "at the bot" is a state to wait on."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Route, expect

from api.db import Database, make_engine
from api.main import create_app
from api.models import Conversation, Message
from api.services import conversations
from api.services.hub import Hub
from api.settings import Settings
from tests.api.test_browser import open_widget, say, shop_page
from tests.api.test_migrations import migrate
from tests.support.api import (
    add_agent,
    auth,
    claimed_escalation,
    hook_body,
    make_settings,
    post_hook,
    start,
)
from tests.support.servers import ROOT, free_port
from tests.support.stack import RATE_LIMITS_OUT_OF_THE_WAY, running_service
from tests.support.waiting import wait_for

ANSWER = "Pakken er på vei."


@dataclass
class StandInRasa:
    """Rasa's REST channel: answers ANSWER (with a button) to each message, at once or, while
    `hold` is set, only once `release` is set; `received` is what it was asked."""

    hold: bool = False
    release: threading.Event = field(default_factory=threading.Event)
    received: list[str] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def rasa() -> Iterator[StandInRasa]:
    stand_in = StandInRasa()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # /status
            self._json([])

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            stand_in.received.append(body["message"])
            if stand_in.hold:
                stand_in.release.wait(timeout=30)
            self._json([{"recipient_id": body["sender"], "text": ANSWER,
                         "buttons": [{"title": "Spor pakken", "payload": "/track_order"}]}])

        def _json(self, body: object) -> None:
            raw = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stand_in.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield stand_in
    stand_in.release.set()
    server.shutdown()


class Clock:
    """The service's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def bot_settings(database_url: str, rasa: StandInRasa) -> Settings:
    return make_settings(database_url, rasa_url=rasa.url, busy_retry_seconds=3)


@pytest.fixture
def bot(bot_settings: Settings, clock: Clock) -> Iterator[TestClient]:
    """The service in front of the stand-in Rasa, on the test's clock."""
    with TestClient(create_app(bot_settings, clock=clock)) as test_client:
        yield test_client


def messages_url(conversation: str) -> str:
    return f"/api/conversations/{conversation}/messages"


def said(client: TestClient, conversation: str, token: str) -> list[tuple[str, str]]:
    history = client.get(messages_url(conversation), headers=auth(token)).json()["messages"]
    return [(m["sender"], m["text"]) for m in history]


def in_background(call: Any) -> tuple[threading.Thread, list[httpx.Response]]:
    answers: list[httpx.Response] = []
    thread = threading.Thread(target=lambda: answers.append(call()))
    thread.start()
    return thread, answers


# ---------- a repeat is answered from what was stored ----------

def test_a_repeat_gets_the_first_answer_and_nothing_is_stored_or_asked_again(
        bot: TestClient, rasa: StandInRasa) -> None:
    conversation, token = start(bot)
    body = {"text": "hvor er pakken min?", "client_message_id": "5f0c7d1e-0b9a-4c57-a3e2-1d2c3b4a5e6f"}
    first = bot.post(messages_url(conversation), json=body, headers=auth(token))
    again = bot.post(messages_url(conversation), json=body, headers=auth(token))
    assert first.status_code == again.status_code == 200
    assert [m["text"] for m in first.json()["messages"]] == [ANSWER]
    assert first.json()["messages"][0]["buttons"] == [{"title": "Spor pakken",
                                                       "payload": "/track_order"}]
    assert again.json() == first.json()  # the same stored reply, same id, same status
    assert rasa.received == ["hvor er pakken min?"]
    assert said(bot, conversation, token) == [("customer", "hvor er pakken min?"), ("bot", ANSWER)]


def test_a_repeat_of_a_button_gets_the_first_answer(bot: TestClient, rasa: StandInRasa) -> None:
    conversation, token = start(bot)
    body = {"payload": "/track_order", "client_message_id": "button-press-0001"}
    first = bot.post(messages_url(conversation), json=body, headers=auth(token)).json()
    assert bot.post(messages_url(conversation), json=body, headers=auth(token)).json() == first
    assert rasa.received == ["/track_order"]


def test_a_repeat_gets_the_answer_of_its_own_message_not_of_a_later_one(
        bot: TestClient, rasa: StandInRasa) -> None:
    conversation, token = start(bot)
    first = {"text": "en", "client_message_id": "message-one-01"}
    answer = bot.post(messages_url(conversation), json=first, headers=auth(token)).json()
    bot.post(messages_url(conversation), json={"text": "to", "client_message_id": "message-two-02"},
             headers=auth(token))
    again = bot.post(messages_url(conversation), json=first, headers=auth(token)).json()
    assert [m["id"] for m in again["messages"]] == [m["id"] for m in answer["messages"]]
    assert rasa.received == ["en", "to"]


def test_a_repeat_when_the_bot_was_down_gets_the_same_notice_and_the_bot_is_not_asked(
        client: TestClient) -> None:
    """The existing tests' Rasa (nothing listening): the first attempt was answered with the
    "bot unavailable" notice; the repeat gets that notice again, stored once."""
    conversation, token = start(client, "da")
    body = {"text": "hvor er min pakke?", "client_message_id": "a" * 64}
    first = client.post(messages_url(conversation), json=body, headers=auth(token))
    again = client.post(messages_url(conversation), json=body, headers=auth(token))
    assert first.status_code == again.status_code == 200
    assert again.json()["messages"] == first.json()["messages"]
    assert [sender for sender, _ in said(client, conversation, token)] == ["customer", "system"]


def test_the_same_id_with_another_text_is_refused_with_a_reason(
        bot: TestClient, rasa: StandInRasa) -> None:
    conversation, token = start(bot)
    url = messages_url(conversation)
    bot.post(url, json={"text": "hei", "client_message_id": "reused-id-1"}, headers=auth(token))
    refused = bot.post(url, json={"text": "hallo", "client_message_id": "reused-id-1"},
                       headers=auth(token))
    assert refused.status_code == 409 and "Retry-After" not in refused.headers
    assert refused.json()["code"] == "client_message_id_reused"
    assert "different message" in refused.json()["detail"]
    assert said(bot, conversation, token) == [("customer", "hei"), ("bot", ANSWER)]
    assert rasa.received == ["hei"]


def test_an_id_is_unique_per_conversation_only(bot: TestClient, rasa: StandInRasa) -> None:
    body = {"text": "hei", "client_message_id": "shared-id-1"}
    for _ in range(2):
        conversation, token = start(bot)
        assert bot.post(messages_url(conversation), json=body, headers=auth(token)).status_code == 200
    assert rasa.received == ["hei", "hei"]


# ---------- while the first attempt is at the bot ----------

def test_a_repeat_while_the_first_is_at_the_bot_waits_with_retry_after_then_gets_its_answer(
        bot: TestClient, rasa: StandInRasa) -> None:
    rasa.hold = True
    conversation, token = start(bot)
    url, body = messages_url(conversation), {"text": "hva koster frakt?",
                                             "client_message_id": "in-flight-01"}
    holder, answers = in_background(lambda: bot.post(url, json=body, headers=auth(token)))
    wait_for(lambda: rasa.received == ["hva koster frakt?"], 10, "the first attempt at Rasa")

    busy = bot.post(url, json=body, headers=auth(token))
    assert busy.status_code == 409 and busy.headers["Retry-After"] == "3"
    assert busy.json()["code"] == "in_flight"

    rasa.release.set()
    holder.join(timeout=30)
    assert answers[0].status_code == 200
    again = bot.post(url, json=body, headers=auth(token))
    assert again.status_code == 200 and again.json() == answers[0].json()
    assert rasa.received == ["hva koster frakt?"]
    assert said(bot, conversation, token) == [("customer", "hva koster frakt?"), ("bot", ANSWER)]


def test_identical_requests_at_the_same_moment_store_the_message_once(
        bot: TestClient, rasa: StandInRasa) -> None:
    rasa.hold = True
    conversation, token = start(bot)
    url, body = messages_url(conversation), {"text": "samtidig", "client_message_id": "same-moment"}
    count = 6
    ready = threading.Barrier(count)
    answers: list[httpx.Response] = []

    def send() -> None:
        ready.wait(timeout=10)
        answers.append(bot.post(url, json=body, headers=auth(token)))

    threads = [threading.Thread(target=send) for _ in range(count)]
    for thread in threads:
        thread.start()
    # every request but the one at the bot is refused as in flight, none fails
    wait_for(lambda: len(answers) == count - 1, 20, "the repeats refused")
    assert [a.status_code for a in answers] == [409] * (count - 1)
    assert {a.json()["code"] for a in answers} == {"in_flight"}
    rasa.release.set()
    for thread in threads:
        thread.join(timeout=30)
    assert answers[-1].status_code == 200
    assert rasa.received == ["samtidig"]
    assert said(bot, conversation, token) == [("customer", "samtidig"), ("bot", ANSWER)]


def test_the_loser_of_the_insert_race_gets_the_stored_message_not_an_error(
        client: TestClient) -> None:
    """Two requests that both found no such message yet: the unique index lets one insert
    it; the other's insert fails and it carries on with the stored message."""
    conversation_id, token = start(client)
    body = {"text": "hei", "client_message_id": "race-loser-1"}
    client.post(messages_url(conversation_id), json=body, headers=auth(token))
    hub: Hub = client.app.state.hub  # type: ignore[attr-defined]
    with hub.database.sessions() as session:
        conversation = session.get_one(Conversation, conversation_id)
        stored, new = conversations._keep_customer(hub, session, conversation, "hei",
                                                   "race-loser-1", True)
        assert not new and stored.text == "hei" and stored.answer_due_by is None
        count = session.scalar(sa.select(sa.func.count()).select_from(Message)
                               .where(Message.sender == "customer"))
    assert count == 1


# ---------- the first attempt lost: its process died ----------

def lost_attempt(settings: Settings, conversation: str, text: str, client_id: str,
                 due: dt.datetime) -> None:
    """What a process that died at the bot leaves behind: the customer's message, stored,
    awaiting its answer until `due`, and no answer."""
    database = Database(settings.database_url)
    with database.sessions() as session:
        session.add(Message(conversation_id=conversation, sender="customer", text=text,
                            client_message_id=client_id, answer_due_by=due))
        session.commit()
    database.engine.dispose()


def test_a_repeat_after_the_first_attempt_was_lost_is_answered_once(
        bot: TestClient, rasa: StandInRasa, bot_settings: Settings, clock: Clock) -> None:
    conversation, token = start(bot)
    due = clock.now + conversations.answer_time(bot_settings)
    lost_attempt(bot_settings, conversation, "hvor er pakken?", "lost-attempt", due)
    url, body = messages_url(conversation), {"text": "hvor er pakken?",
                                             "client_message_id": "lost-attempt"}

    clock.now = due - dt.timedelta(seconds=1)  # it could still be answered: wait
    assert bot.post(url, json=body, headers=auth(token)).status_code == 409
    assert rasa.received == []

    clock.now = due
    answered = bot.post(url, json=body, headers=auth(token))
    assert answered.status_code == 200
    assert [m["text"] for m in answered.json()["messages"]] == [ANSWER]
    again = bot.post(url, json=body, headers=auth(token))
    assert again.json() == answered.json()
    assert rasa.received == ["hvor er pakken?"]
    assert said(bot, conversation, token) == [("customer", "hvor er pakken?"), ("bot", ANSWER)]


def test_only_one_repeat_takes_over_a_lost_attempt(
        bot: TestClient, rasa: StandInRasa, bot_settings: Settings, clock: Clock) -> None:
    rasa.hold = True
    conversation, token = start(bot)
    lost_attempt(bot_settings, conversation, "retur?", "lost-twice", clock.now)
    url, body = messages_url(conversation), {"text": "retur?", "client_message_id": "lost-twice"}
    taker, answers = in_background(lambda: bot.post(url, json=body, headers=auth(token)))
    wait_for(lambda: rasa.received == ["retur?"], 10, "the repeat that took over at Rasa")
    other = bot.post(url, json=body, headers=auth(token))
    assert other.status_code == 409 and other.json()["code"] == "in_flight"
    rasa.release.set()
    taker.join(timeout=30)
    assert answers[0].status_code == 200
    assert rasa.received == ["retur?"]
    assert said(bot, conversation, token) == [("customer", "retur?"), ("bot", ANSWER)]


def test_a_slow_first_attempt_and_its_taker_store_one_answer(
        bot: TestClient, rasa: StandInRasa, bot_settings: Settings, clock: Clock) -> None:
    """The first attempt outlives its answer time (clock moved on while it is at the bot);
    a repeat takes over and asks the bot too. Whichever stores its answer first wins; the
    other returns that answer instead of storing a second one."""
    rasa.hold = True
    conversation, token = start(bot)
    url, body = messages_url(conversation), {"text": "slow", "client_message_id": "slow-first"}
    first, first_answer = in_background(lambda: bot.post(url, json=body, headers=auth(token)))
    wait_for(lambda: rasa.received == ["slow"], 10, "the first attempt at Rasa")
    clock.now += conversations.answer_time(bot_settings)
    taker, taker_answer = in_background(lambda: bot.post(url, json=body, headers=auth(token)))
    wait_for(lambda: rasa.received == ["slow", "slow"], 10, "the taker at Rasa")
    rasa.release.set()
    first.join(timeout=30)
    taker.join(timeout=30)
    assert first_answer[0].status_code == taker_answer[0].status_code == 200
    assert first_answer[0].json()["messages"] == taker_answer[0].json()["messages"]
    assert said(bot, conversation, token) == [("customer", "slow"), ("bot", ANSWER)]


def test_a_lost_attempt_in_a_conversation_a_person_took_meanwhile_is_left_to_them(
        bot: TestClient, rasa: StandInRasa, bot_settings: Settings, clock: Clock) -> None:
    conversation, token = start(bot)
    lost_attempt(bot_settings, conversation, "hallo?", "lost-queued", clock.now)
    assert post_hook(bot, hook_body(conversation)).status_code == 201
    body = {"text": "hallo?", "client_message_id": "lost-queued"}
    reply = bot.post(messages_url(conversation), json=body, headers=auth(token))
    assert reply.status_code == 200
    assert reply.json()["messages"] == [] and reply.json()["status"] == "queued"
    assert rasa.received == []


# ---------- with a person, validation, old clients, the schema ----------

def test_a_repeat_to_the_agent_is_stored_once(client: TestClient, settings: Settings) -> None:
    agent_token = add_agent(settings, "Kari")
    conversation, token = start(client)
    assert post_hook(client, hook_body(conversation)).status_code == 201
    body = {"text": "er det noen der?", "client_message_id": "to-the-agent"}
    first = client.post(messages_url(conversation), json=body, headers=auth(token))
    again = client.post(messages_url(conversation), json=body, headers=auth(token))
    assert first.status_code == again.status_code == 200
    assert again.json()["messages"] == [] and again.json()["status"] == "queued"
    [escalation] = client.get("/api/escalations", headers=auth(agent_token)).json()
    detail = client.get(f"/api/escalations/{escalation['id']}", headers=auth(agent_token)).json()
    assert [m["text"] for m in detail["messages"]].count("er det noen der?") == 1


def test_a_repeat_is_answered_after_the_conversation_was_closed(
        client: TestClient, settings: Settings) -> None:
    agent_token, conversation, token, escalation_id = claimed_escalation(client, settings)
    body = {"text": "takk!", "client_message_id": "before-close"}
    assert client.post(messages_url(conversation), json=body, headers=auth(token)).status_code == 200
    client.post(f"/api/escalations/{escalation_id}/resolve", json={"return_to_bot": False},
                headers=auth(agent_token))
    again = client.post(messages_url(conversation), json=body, headers=auth(token))
    assert again.status_code == 200 and again.json()["status"] == "closed"
    new = client.post(messages_url(conversation), json={"text": "takk!",
                                                        "client_message_id": "after-close"},
                      headers=auth(token))
    assert new.status_code == 409 and "closed" in new.json()["detail"]


@pytest.mark.parametrize("client_id", ["", "short", "x" * 65, "has space1", "æøå-12345",
                                       "semi;colon1", "line\nbreak1", 12345678, ["list-id-1"]])
def test_a_malformed_client_message_id_is_refused_and_nothing_is_stored(
        client: TestClient, client_id: Any) -> None:
    conversation, token = start(client)
    refused = client.post(messages_url(conversation), json={"text": "hei",
                                                            "client_message_id": client_id},
                          headers=auth(token))
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"][-1] == "client_message_id"
    assert said(client, conversation, token) == []


def test_clients_without_an_id_work_as_before_each_send_is_a_message(
        bot: TestClient, rasa: StandInRasa) -> None:
    conversation, token = start(bot)
    for body in ({"text": "hei"}, {"text": "hei", "client_message_id": None}):
        reply = bot.post(messages_url(conversation), json=body, headers=auth(token))
        assert reply.status_code == 200 and [m["text"] for m in reply.json()["messages"]] == [ANSWER]
    assert rasa.received == ["hei", "hei"]
    assert [s for s, _ in said(bot, conversation, token)] == ["customer", "bot"] * 2


def test_the_contract_documents_the_id_and_the_conflicts(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    field_schema = schema["components"]["schemas"]["CustomerMessage"]["properties"]["client_message_id"]
    assert {"minLength": 8, "maxLength": 64, "pattern": "^[A-Za-z0-9_-]{8,64}$"}.items() <= \
        next(s for s in field_schema["anyOf"] if s.get("type") == "string").items()
    post = schema["paths"]["/api/conversations/{conversation_id}/messages"]["post"]
    assert "in_flight" in post["responses"]["409"]["description"]


# ---------- the migration ----------

def test_messages_from_before_0008_stay_and_need_no_id_and_the_way_back_works(
        database_url: str) -> None:
    migrate(database_url, "0007")
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO conversations (id, customer_token_hash, status, created_at) "
            "VALUES ('c_old', 'x', 'bot', CURRENT_TIMESTAMP)"))
        for text in ("hei", "hei"):
            connection.execute(sa.text(
                "INSERT INTO messages (conversation_id, sender, text, created_at) "
                "VALUES ('c_old', 'customer', :text, CURRENT_TIMESTAMP)"), {"text": text})
    engine.dispose()

    migrate(database_url, "head")
    insert = sa.text("INSERT INTO messages (conversation_id, sender, text, created_at, "
                     "client_message_id) VALUES ('c_old', 'customer', 'x', CURRENT_TIMESTAMP, :id)")
    engine = make_engine(database_url)
    with engine.begin() as connection:
        rows = connection.execute(sa.text(
            "SELECT client_message_id, answer_due_by, reply_to FROM messages")).all()
        assert [tuple(row) for row in rows] == [(None, None, None)] * 2
        connection.execute(insert, {"id": None})  # no id: as many as you like
        connection.execute(insert, {"id": "once-only"})
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(insert, {"id": "once-only"})
    engine.dispose()

    migrate(database_url, "0007", down=True)
    engine = make_engine(database_url)
    with engine.begin() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("messages")}
        assert connection.execute(sa.text("SELECT count(*) FROM messages")).scalar() == 4
    engine.dispose()
    assert not columns & {"client_message_id", "answer_due_by", "reply_to"}


# ---------- the widget, in a real browser ----------

@pytest.mark.server
def test_the_widget_sends_a_message_again_with_its_id_and_gets_the_first_answer_once(
        tmp_path: Path, rasa: StandInRasa, browser: Browser) -> None:
    """The answer to the widget's first try is lost on the way back (the service stored and
    answered it), and the socket and history that would show it are down too (the process
    died): the message stays in the chat with "Try again"; the retry carries the same id and
    shows the first answer; the bot was asked once and the message is stored once."""
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "NORDHEM_DATABASE_URL": f"sqlite:///{tmp_path / 'escalations.db'}",
           "NORDHEM_RASA_URL": rasa.url, "NORDHEM_ACTIONS_URL": rasa.url,
           "NORDHEM_HOOK_SECRET": "s", "NORDHEM_TRACKER_STORE_URL": "sqlite://",
           "NORDHEM_CORS_ORIGINS": api, **RATE_LIMITS_OUT_OF_THE_WAY}
    with running_service(tmp_path, port, env):
        page = browser.new_context(viewport={"width": 1200, "height": 800}).new_page()
        sent: list[Any] = []

        def lose_the_first_answer(route: Route) -> None:
            sent.append(route.request.post_data_json)
            if len(sent) == 1:
                route.fetch()  # the service stores and answers it ...
                route.abort("connectionreset")  # ... and the answer never arrives
            else:
                route.continue_()

        def history(route: Route) -> None:  # down until the retry got through
            if len(sent) < 2:
                route.abort("connectionrefused")
            else:
                route.continue_()

        page.route("**/api/conversations/*/messages", lambda route: (
            lose_the_first_answer(route) if route.request.method == "POST" else history(route)))
        page.route("**/api/conversations/*/messages?*", history)
        page.route_web_socket(re.compile(r".*/ws/conversations/.*"), lambda socket: None)
        shop_page(page, SimpleNamespace(api=api), "nb")
        open_widget(page)
        say(page, "hvor er pakken min?")
        customer = page.locator('#nordhem-chat-log [data-sender="customer"]')
        expect(customer).to_have_attribute("data-state", "error")
        expect(customer.locator(".nordhem-bubble")).to_have_text("hvor er pakken min?")
        page.click("#nordhem-chat-log .nordhem-retry")
        expect(page.locator('#nordhem-chat-log [data-sender="bot"]')).to_have_text(
            [re.compile("Pakken er på vei")])
        expect(customer).to_have_attribute("data-state", "sent")
        assert len(sent) == 2 and sent[0] == sent[1]
        assert re.fullmatch(r"[0-9a-f]{32}", sent[0]["client_message_id"])
        say(page, "takk")  # the next message has an id of its own
        expect(page.locator('#nordhem-chat-log [data-sender="bot"]')).to_have_count(2)
        assert sent[2]["client_message_id"] != sent[0]["client_message_id"]
        conversation = json.loads(page.evaluate("localStorage.getItem('nordhem_chat')"))
        stored = httpx.get(f"{api}{messages_url(conversation['conversation_id'])}",
                           headers=auth(conversation["customer_token"])).json()["messages"]
        assert [(m["sender"], m["text"]) for m in stored] == [
            ("customer", "hvor er pakken min?"), ("bot", ANSWER), ("customer", "takk"),
            ("bot", ANSWER)]
        assert rasa.received == ["hvor er pakken min?", "takk"]
        page.context.close()
