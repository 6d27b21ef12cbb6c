"""Holding the conversation on the running bot (Rasa, actions, a signed stand-in for the
escalation service), in nb, da and sv: what Rasa's story test cannot replay, because it
depends on the NLU's reading of the real text and on the slots the policy keeps."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Iterator

import pytest

from actions.orders.describe import ASK_CONTACT, order_text
from core.content import load_content
from tests.support.escalation_stub import EscalationStub, bot_escalating_to, escalation_stub
from tests.support.servers import Bot, texts

pytestmark = pytest.mark.server
TEXTS = load_content()
RECEIPT = {"reference": "NH-KEPT42", "position": 3, "eta_minutes": None, "agents_online": 0,
           "agents_available": 0, "open_now": True, "next_open": None}


@pytest.fixture(scope="module")
def stub() -> Iterator[EscalationStub]:
    with escalation_stub(RECEIPT) as running:
        yield running


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory, stub: EscalationStub) -> Iterator[Bot]:
    with bot_escalating_to(stub, Path(tmp_path_factory.mktemp("conversation"))) as running:
        yield running


def customer() -> str:
    return f"c-{uuid.uuid4().hex[:12]}"


def contains(replies: list[str], key: str, language: str) -> bool:
    return any(TEXTS[key][language] in reply for reply in replies)


def escalation_of(stub: EscalationStub, who: str) -> dict:
    return next(item for item in stub.received if item["conversation_id"] == who)


@pytest.mark.parametrize(("language", "question", "answer"), [
    ("nb", "hvor er pakken min? den har ikke kommet", "det er 40918273"),
    ("da", "jeg vil gerne annullere min ordre", "ordrenr 40918273"),
    ("sv", "jag vill ändra adressen på min beställning", "40918273"),
])
def test_the_order_number_asked_for_continues_the_order_task(
    bot: Bot, stub: EscalationStub, language: str, question: str, answer: str,
) -> None:
    who = customer()
    bot.say(who, question, language=language)
    replies = texts(bot.say(who, answer))
    # the bot looks the order up itself: next it asks for the e-mail or postcode on it
    assert replies == [order_text(ASK_CONTACT, language)]
    assert bot.slot(who, "order_number") == "40918273"
    assert bot.slot(who, "phone") is None  # eight digits are the order, not a phone number
    assert not any(item["conversation_id"] == who for item in stub.received)


@pytest.mark.parametrize(("language", "message"), [
    ("nb", "ordre 40918273 har fortsatt ikke kommet, hva skjer?"),
    ("da", "min ordre 40918273 er stadig ikke kommet"),
    ("sv", "order 40918273 har fortfarande inte kommit"),
])
def test_an_order_number_already_written_is_not_asked_for(bot: Bot, language: str, message: str) -> None:
    who = customer()
    replies = texts(bot.say(who, message, language=language))
    assert not contains(replies, "track_order", language)
    assert replies == [f"{TEXTS['welcome_prefix'][language]} {order_text(ASK_CONTACT, language)}"]


@pytest.mark.parametrize(("language", "message", "topics"), [
    ("nb", "hva koster frakt, og hvordan returnerer jeg noe?", ["shipping_cost", "return_policy"]),
    ("da", "hvad koster fragten, og hvor lang tid tager leveringen?", ["shipping_cost", "delivery_time"]),
    ("sv", "Hej, kan man betala med Swish? Och hur avbeställer jag en order?",
     ["payment_methods", "cancel_order"]),
])
def test_two_questions_get_both_answers_in_order_and_one_check(bot: Bot, language: str,
                                                               message: str, topics: list[str]) -> None:
    replies = texts(bot.say(customer(), message, language=language))
    positions = [next(i for i, r in enumerate(replies) if TEXTS[t][language] in r) for t in topics]
    assert positions == sorted(positions)
    assert replies.count(TEXTS["anything_else"][language]) == 1
    assert replies[-1] == TEXTS["anything_else"][language]
    welcome = TEXTS["welcome_prefix"][language]
    assert replies[0].startswith(welcome) and not any(r.startswith(welcome) for r in replies[1:])


@pytest.mark.parametrize(("language", "first", "follow_up", "aspect"), [
    ("nb", "hvilke betalingsmåter har dere?", "og faktura?", "payment_methods__invoice"),
    ("da", "hvordan returnerer jeg en vare?", "og hvad koster det?", "return_policy__cost"),
    ("sv", "när har ni öppet?", "och på lördag?", "opening_hours__days"),
])
def test_a_short_follow_up_is_answered_for_the_topic(bot: Bot, language: str, first: str,
                                                     follow_up: str, aspect: str) -> None:
    who = customer()
    bot.say(who, first, language=language)
    replies = texts(bot.say(who, follow_up))
    assert replies == [TEXTS[aspect][language], TEXTS["anything_else"][language]]


@pytest.mark.parametrize(("language", "question", "correction"), [
    ("nb", "hvordan returnerer jeg en vare?", "nei, det var ikke det jeg mente"),
    ("da", "hvordan returnerer jeg en vare?", "nej, det var ikke det jeg mente"),
    ("sv", "hur returnerar jag en vara?", "nej, det var inte det jag menade"),
])
def test_not_what_i_meant_offers_other_topics_and_a_person(bot: Bot, language: str, question: str,
                                                            correction: str) -> None:
    who = customer()
    bot.say(who, question, language=language)
    replies = bot.say(who, correction)
    assert not contains(texts(replies), "return_policy", language)
    payloads = [b["payload"] for r in replies for b in r.get("buttons") or []]
    assert "/return_policy" not in payloads and "/request_human" in payloads
    assert len([p for p in payloads if p not in ("/request_human", "/something_else")]) >= 2
