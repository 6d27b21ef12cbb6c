"""Order self-service on the running bot (Rasa and the action server with a seeded demo order
store), in nb, da and sv: what the story test cannot replay, because it depends on the NLU's
reading of the real messages, the slots the policy keeps and the order system's answers."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Iterator, List
from zoneinfo import ZoneInfo

import pytest

from actions.orders import describe as d
from actions.orders.demo_store import DemoOrderStore, seed
from actions.orders.port import Order, OrderStatus
from core.content import load_content
from tests.support.servers import Bot, running_bot, texts

pytestmark = pytest.mark.server
TEXTS = load_content()
COUNTRY = {"nb": "NO", "da": "DK", "sv": "SE"}
WHERE_IS_IT = {"nb": "hvor er pakken min?", "da": "hvor er min pakke?", "sv": "var är mitt paket?"}


def local_today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Europe/Oslo")).date()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> DemoOrderStore:
    path = Path(tmp_path_factory.mktemp("orders")) / "orders.db"
    seed(path, local_today())  # dates relative to the day the action server tells them
    return DemoOrderStore(path)


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory, store: DemoOrderStore) -> Iterator[Bot]:
    workdir = Path(tmp_path_factory.mktemp("order-bot"))
    with running_bot(workdir, {"NORDHEM_ORDERS_DB": str(store.path)}) as running:
        yield running


def customer() -> str:
    return f"o-{uuid.uuid4().hex[:12]}"


def shipped(store: DemoOrderStore, language: str) -> Order:
    return next(order for order in store.all_orders()
                if order.status is OrderStatus.SHIPPED and order.country == COUNTRY[language])


def ask_for_order(bot: Bot, who: str, language: str, order: Order) -> List[str]:
    """Where is my order (the answer asks for its number), then the number, which the bot
    answers by asking for the e-mail or postcode: the replies to both."""
    first = texts(bot.say(who, WHERE_IS_IT[language], language=language))
    assert first == [f"{TEXTS['welcome_prefix'][language]} {TEXTS['track_order'][language]}",
                     TEXTS["anything_else"][language]]
    second = texts(bot.say(who, order.number))
    assert second == [d.order_text(d.ASK_CONTACT, language)]
    return first + second


@pytest.mark.parametrize("language", ["nb", "da", "sv"])
def test_where_is_my_order_is_answered_with_status_carrier_and_date_after_verification(
        bot: Bot, store: DemoOrderStore, language: str) -> None:
    order, who = shipped(store, language), customer()
    asked = ask_for_order(bot, who, language, order)
    assert not any(order.tracking_number in reply for reply in asked)
    replies = texts(bot.say(who, f"{order.email}"))
    told = replies[0]
    # the day may turn while the test runs: the answer is right for the day it was given
    assert told in {d.describe_order(order, language, day)
                    for day in (local_today() - dt.timedelta(days=1), local_today())}
    assert d.carrier_name(order.carrier or "") in told and order.tracking_number in told
    assert replies[1:] == [TEXTS["anything_else"][language]]


@pytest.mark.parametrize("language", ["nb", "da", "sv"])
def test_a_wrong_email_gets_the_neutral_answer_and_no_order_fact(
        bot: Bot, store: DemoOrderStore, language: str) -> None:
    order, who = shipped(store, language), customer()
    ask_for_order(bot, who, language, order)
    replies = texts(bot.say(who, "ikke.meg@example.com"))
    assert replies == [d.order_text(d.NO_MATCH, language)]
    assert bot.slot(who, "verified_order") is None
    assert bot.slot(who, "verify_attempts") == 1
