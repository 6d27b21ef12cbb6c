"""The real Rasa server and action server, talked to over HTTP like a customer would."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Iterator

import pytest

from core.content import load_content
from tests.support.servers import Bot, running_bot, texts

pytestmark = pytest.mark.server
TEXTS = load_content()


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    with running_bot(Path(tmp_path_factory.mktemp("bot"))) as running:
        yield running


def new_customer() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def opening(key: str, language: str) -> str:
    """A reply as the conversation's first: the welcome, then the text."""
    return f"{TEXTS['welcome_prefix'][language]} {TEXTS[key][language]}"


@pytest.mark.parametrize(
    "language, message, answer",
    [
        ("nb", "hvor lang tid tar leveringen til Bergen?", "delivery_time"),
        ("nb", "kan jeg betale med vipps", "payment_methods"),
        ("nb", "hvordan reklamerer jeg på en jakke som har gått i stykker", "warranty_claim"),
        ("da", "hvornår har i åbent i weekenden?", "opening_hours"),
        ("da", "kan jeg betale med mobilepay", "payment_methods"),
        ("da", "hvordan returnerer jeg en vare jeg har fortrudt", "return_policy"),
        ("sv", "vad kostar frakten till Göteborg?", "shipping_cost"),
        ("sv", "kan jag betala med swish", "payment_methods"),
        ("sv", "hur länge har jag ångerrätt", "return_policy"),
    ],
)
def test_faq_answer_comes_back_in_the_language_asked(
    bot: Bot, language: str, message: str, answer: str
) -> None:
    customer = new_customer()
    replies = texts(bot.say(customer, message))
    assert replies == [opening(answer, language), TEXTS["anything_else"][language]]
    assert bot.slot(customer, "language") == language


def test_unclear_reply_keeps_the_conversation_language(bot: Bot) -> None:
    customer = new_customer()
    bot.say(customer, "hvornår kommer min pakke? jeg bestilte i mandags")
    assert bot.slot(customer, "language") == "da"
    replies = texts(bot.say(customer, "ja"))
    assert replies == [TEXTS["ask_what_else"]["da"]]
    assert bot.slot(customer, "language") == "da"


def test_clear_switch_to_another_language_is_followed(bot: Bot) -> None:
    customer = new_customer()
    bot.say(customer, "hvordan bytter jeg en vare til en annen størrelse")
    replies = texts(bot.say(customer, "förlåt, jag skriver hellre på svenska: vad kostar frakten?"))
    assert replies[0] == TEXTS["shipping_cost"]["sv"]  # not the first reply: no welcome


@pytest.mark.parametrize("language", ["nb", "da", "sv"])
def test_callers_language_hint_decides_an_ambiguous_greeting(bot: Bot, language: str) -> None:
    replies = texts(bot.say(new_customer(), "hallo", language=language))
    assert replies == [TEXTS["greet"][language]]


def test_parse_exposes_intent_ranking_language_and_details(bot: Bot) -> None:
    parsed = bot.parse("hvor er pakken min? ordrenummer 10483921, mail kari@example.no")
    assert parsed["intent"]["name"] == "track_order"
    assert [r["name"] for r in parsed["intent_ranking"]][0] == "track_order"
    assert parsed["language_detection"]["language"] == "nb"
    entities = {(e["entity"], e["value"]) for e in parsed["entities"]}
    assert entities == {("order_number", "10483921"), ("email", "kari@example.no")}


def test_identity_numbers_are_not_extracted_as_details(bot: Bot) -> None:
    # a valid personnummer (checksum) is never an order number, nor any other detail
    parsed = bot.parse("mitt personnummer är 19811228-9874, var är min order?")
    assert not any("19811228" in str(e["value"]) or "9874" in str(e["value"])
                   for e in parsed["entities"])


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on the port (from /proc/net/tcp and tcp6)."""
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                addresses.add(address)
    return addresses


def test_rasa_and_the_action_server_listen_on_loopback_only(bot: Bot) -> None:
    for url in (bot.rasa_url, bot.actions_url):
        port = int(url.rsplit(":", 1)[1])
        assert listening_addresses(port) == {"0100007F"}, url  # 127.0.0.1, nothing else


def test_rasas_http_api_answers_401_without_a_token(bot: Bot) -> None:
    import urllib.error
    import urllib.request

    for path in ("/conversations/someone/tracker", "/status", "/domain"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{bot.rasa_url}{path}", timeout=5)
        assert refused.value.code == 401, path
    request = urllib.request.Request(f"{bot.rasa_url}/status", headers=bot.api_headers())
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
