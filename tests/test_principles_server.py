"""The service principles on the running bot, in nb, da and sv."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from core.content import load_content
from core.opening_hours import describe_opening, describe_wait, schedule_for
from tests.support.escalation_stub import EscalationStub, bot_escalating_to, escalation_stub
from tests.support.servers import ROOT, Bot, running_bot, texts

pytestmark = pytest.mark.server
TEXTS = load_content()
QUEUE = {"reference": "NH-4711", "position": 2, "eta_minutes": 4, "agents_online": 3,
         "open_now": True, "next_open": None}


@pytest.fixture(scope="module")
def stub() -> Iterator[EscalationStub]:
    with escalation_stub(QUEUE) as running:
        yield running


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory, stub: EscalationStub) -> Iterator[Bot]:
    with bot_escalating_to(stub, Path(tmp_path_factory.mktemp("principles"))) as running:
        yield running


@pytest.fixture(scope="module")
def bot_without_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    with running_bot(Path(tmp_path_factory.mktemp("no-service"))) as running:
        yield running


def customer() -> str:
    return f"p-{uuid.uuid4().hex[:12]}"


def fill(key: str, language: str, **values: object) -> str:
    return TEXTS[key][language].format(**values)


AMBIGUOUS = {"nb": "jeg har et problem med bestillingen min",
             "da": "hej, der er et problem med min bestilling, hvad gør jeg",
             "sv": "jag har ett problem med min beställning"}
PERSON = {"nb": "jeg vil snakke med et menneske", "da": "jeg vil gerne tale med en medarbejder",
          "sv": "jag vill prata med en människa"}
COMPLAINT = {"nb": "jeg er veldig misfornøyd med servicen deres",
             "da": "jeg er meget utilfreds med jeres service",
             "sv": "jag är väldigt missnöjd med er service"}
OUT_OF_SCOPE = {"nb": "hvem vinner fotball-VM?", "da": "hvem vinder VM i fodbold?",
                "sv": "vem vinner fotbolls-VM?"}


@pytest.mark.parametrize("language", ["nb", "da", "sv"])
def test_ambiguous_message_gets_a_clarifying_question_with_buttons(bot: Bot, language: str) -> None:
    [reply] = bot.say(customer(), AMBIGUOUS[language])
    assert reply["text"].endswith(TEXTS["clarify"][language])
    assert reply["text"].startswith(TEXTS["welcome_prefix"][language])
    payloads = [b["payload"] for b in reply["buttons"]]
    assert payloads[-2:] == ["/something_else", "/request_human"]
    assert 2 <= len(payloads) - 2 <= 3
    assert all(not b["title"].startswith("/") and "_" not in b["title"] for b in reply["buttons"])


@pytest.mark.parametrize("language", ["nb", "da", "sv"])
def test_choosing_a_button_continues_as_if_asked(bot: Bot, language: str) -> None:
    who = customer()
    [reply] = bot.say(who, AMBIGUOUS[language])
    choice = next(b for b in reply["buttons"] if b["payload"] not in
                  ("/something_else", "/request_human"))
    answer = texts(bot.say(who, choice["payload"]))
    assert answer == [TEXTS[choice["payload"][1:]][language], TEXTS["anything_else"][language]]


@pytest.mark.parametrize("language", ["nb", "da", "sv"])
def test_person_request_is_owned_and_says_place_in_queue(
    bot: Bot, stub: EscalationStub, language: str
) -> None:
    who = customer()
    replies = texts(bot.say(who, PERSON[language]))
    assert replies[0].endswith(TEXTS["handoff_request_human"][language])
    assert replies[1] == TEXTS["handoff_context"][language]
    assert replies[2] == fill("handoff_queue", language, position=2,
                              wait=describe_wait(4, 4, language), reference="NH-4711")
    [sent] = [e for e in stub.received if e["conversation_id"] == who]
    assert sent["language"] == language and sent["reason"] == "request_human"
    assert sent["transcript"][0] == {**sent["transcript"][0], "sender": "customer",
                                     "text": PERSON[language]}
    assert sent["summary"]


@pytest.mark.parametrize("language", ["nb", "da", "sv"])
def test_complaint_apologises_first_asks_order_and_hands_over_the_details(
    bot: Bot, stub: EscalationStub, language: str
) -> None:
    who = customer()
    first = texts(bot.say(who, COMPLAINT[language]))
    assert first[0].endswith(TEXTS["complain"][language])
    assert first[1] == TEXTS["ask_order_number"][language]
    answer = {"nb": "10483921, og fnr 15076500565", "da": "ordrenummer 10483921",
              "sv": "order 10483921"}[language]
    second = texts(bot.say(who, answer))
    assert second[0] == TEXTS["handoff_complaint"][language]
    assert "NH-4711" in second[-1]
    [sent] = [e for e in stub.received if e["conversation_id"] == who]
    assert sent["reason"] == "complaint" and sent["priority"] == "high"
    assert sent["details"]["order_number"] == "10483921"
    assert "15076500565" not in json.dumps(sent)  # a valid fødselsnummer, masked


@pytest.mark.parametrize("language", ["nb", "da", "sv"])
def test_out_of_scope_question_is_taken_on_not_bounced(
    bot: Bot, stub: EscalationStub, language: str
) -> None:
    who = customer()
    replies = texts(bot.say(who, OUT_OF_SCOPE[language]))
    assert replies[0].endswith(TEXTS["handoff_out_of_scope"][language])
    assert [e["reason"] for e in stub.received if e["conversation_id"] == who] == ["out_of_scope"]


@pytest.mark.parametrize("language", ["nb", "da", "sv"])
def test_two_failed_clarifications_end_in_an_owned_hand_off(
    bot: Bot, stub: EscalationStub, language: str
) -> None:
    who = customer()
    bot.say(who, AMBIGUOUS[language])
    assert texts(bot.say(who, "/something_else")) == [TEXTS["ask_rephrase"][language]]
    replies = texts(bot.say(who, AMBIGUOUS[language]))
    assert replies[0] == TEXTS["handoff_clarification_failed"][language]
    assert [e["reason"] for e in stub.received if e["conversation_id"] == who] == [
        "clarification_failed"]


def test_third_insult_is_a_calm_boundary_and_a_flagged_hand_off(
    bot: Bot, stub: EscalationStub
) -> None:
    who = customer()
    assert texts(bot.say(who, "du er helt ubrukelig"))[0].endswith(TEXTS["insult"]["nb"])
    assert texts(bot.say(who, "jeg vet hvor dere bor, jeg skal drepe dere")) == [
        TEXTS["insult"]["nb"]]
    replies = texts(bot.say(who, "din jævla idiot"))
    assert replies[0] == TEXTS["handoff_abuse"]["nb"]
    [sent] = [e for e in stub.received if e["conversation_id"] == who]
    assert sent["reason"] == "abuse" and sent["priority"] == "urgent"


@pytest.mark.parametrize("language", ["nb", "da", "sv"])
def test_without_the_service_the_hand_off_is_honest_and_gives_a_reference(
    bot_without_service: Bot, language: str
) -> None:
    who = customer()
    now = dt.datetime.now(dt.timezone.utc)
    replies = texts(bot_without_service.say(who, PERSON[language]))
    reference = bot_without_service.slot(who, "handoff_reference")
    schedule = schedule_for(language)
    next_open = describe_opening(schedule.next_open(now), now, language)
    expected = (fill("handoff_no_numbers", language, reference=reference)
                if schedule.is_open(now)
                else fill("handoff_no_numbers_closed", language, reference=reference,
                          next_open=next_open))
    assert replies[-1] == expected
    assert reference and reference.startswith("C-")


def test_bot_question_gets_an_honest_yes(bot: Bot) -> None:
    reply = texts(bot.say(customer(), "er du en robot?"))[0]
    assert reply.endswith(TEXTS["bot_challenge"]["nb"])


def test_scorecard_cli_reads_the_tracker_store(bot: Bot) -> None:
    who = customer()
    bot.say(who, "hva koster frakt til Tromsø?")
    bot.say(who, PERSON["nb"])
    result = subprocess.run(
        [sys.executable, "-m", "bot.scorecard", "--db", str(bot.tracker_db), "--json", who],
        cwd=ROOT, capture_output=True, text=True, check=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    [card] = json.loads(result.stdout)["conversations"]
    assert card["welcomed"] is True
    assert card["checked_after_answer"] is True
    assert card["handed_off"] is True
    assert card["handoff_owned_with_summary"] is True
    assert card["expectations_set"] is True
    assert card["resolved_without_handoff"] is False
