"""What the bot says about a verified order: every status in every language, dates in the
local format, the carriers' tracking links, refund promises, and no e-mail in any text."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from string import Formatter
from typing import Any, Dict, List

import pytest

from actions.orders import describe as d
from actions.orders.port import Order, OrderStatus
from core.content import load_content, order_texts

S = OrderStatus
LANGUAGES = ("nb", "da", "sv")
TODAY = dt.date(2026, 12, 2)            # a Wednesday
FRIDAY = dt.date(2026, 12, 4)
MONDAY = dt.date(2026, 11, 30)
FRIDAY_WORDS = {"nb": "fredag 4. desember", "da": "fredag den 4. december", "sv": "fredag 4 december"}
MONDAY_WORDS = {"nb": "mandag 30. november", "da": "mandag den 30. november", "sv": "måndag 30 november"}
TOMORROW = {"nb": "i morgen", "da": "i morgen", "sv": "i morgon"}
EMAIL = "ingrid.haugen@example.no"
HOME = "Thorvald Meyers gate 12, 0555 Oslo"
PICKUP = "Coop Extra Grünerløkka, Thorvald Meyers gate 30, 0555 Oslo"
MONTHS = re.compile(r"\b(januari?|februari?|mars|marts|april|mai|maj|juni|juli|augusti?|september|"
                    r"oktober|november|desember|december)\b")


def order(status: OrderStatus, **changes: Any) -> Order:
    """A Norwegian order in the status, with the facts that status has."""
    facts: Dict[str, Any] = {}
    if status in (S.SHIPPED, S.DELAYED):
        facts = {"expected_delivery": FRIDAY}
    elif status == S.AT_PICKUP_POINT:
        facts = {"delivery": "pickup_point", "address": PICKUP, "pickup_deadline": FRIDAY}
    elif status in (S.DELIVERED, S.RETURNED, S.REFUNDED):
        facts = {"delivered_on": MONDAY}
    if status not in (S.RECEIVED, S.PACKED, S.CANCELLED):
        facts |= {"carrier": "posten_bring", "tracking_number": "370712345678901234"}
    base = Order(number="40918273", email=EMAIL, postcode="0555", country="NO", status=status,
                 placed_at=dt.date(2026, 11, 27), payment_method="card", total="1 249,00 NOK",
                 delivery="home", address=HOME)
    return replace(base, **{**facts, **changes})


def lines(text: str) -> List[str]:
    return text.split("\n")


# --- dates ---

@pytest.mark.parametrize("language", LANGUAGES)
def test_a_date_is_written_the_way_the_country_writes_it(language: str) -> None:
    assert d.local_date(FRIDAY, language) == FRIDAY_WORDS[language]
    assert d.local_date(FRIDAY, language, today=TODAY) == FRIDAY_WORDS[language]
    assert d.local_date(MONDAY, language, today=TODAY) == MONDAY_WORDS[language]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_month_has_its_own_name(language: str) -> None:
    names = {d.local_date(dt.date(2026, month, 1), language).split()[-1] for month in range(1, 13)}
    assert len(names) == 12


@pytest.mark.parametrize("language", LANGUAGES)
def test_today_tomorrow_and_yesterday_are_said_in_words(language: str) -> None:
    assert d.local_date(TODAY, language, today=TODAY) == "i dag"
    assert d.local_date(TODAY + dt.timedelta(days=1), language, today=TODAY) == TOMORROW[language]
    assert d.local_date(TODAY - dt.timedelta(days=1), language, today=TODAY) == "i går"
    # without today, a date is a date
    assert d.local_date(TODAY, language) != "i dag"


def test_a_date_more_than_half_a_year_away_names_its_year() -> None:
    assert d.local_date(dt.date(2025, 12, 30), "nb", today=TODAY) == "tirsdag 30. desember 2025"
    # across new year, but close: the weekday and date are enough
    assert d.local_date(dt.date(2027, 1, 2), "da", today=dt.date(2026, 12, 30)) == "lørdag den 2. januar"


# --- every status in every language ---

@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("status", list(S))
def test_every_status_starts_with_the_order_number(status: OrderStatus, language: str) -> None:
    text = d.describe_order(order(status), language, TODAY)
    assert "40918273" in lines(text)[0]
    assert "{" not in text and "}" not in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_status_is_told_in_its_own_words(language: str) -> None:
    firsts = {lines(d.describe_order(order(status), language, TODAY))[0] for status in S}
    assert len(firsts) == len(S)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("status", "words"), [
    (S.SHIPPED, FRIDAY_WORDS), (S.DELAYED, FRIDAY_WORDS), (S.AT_PICKUP_POINT, FRIDAY_WORDS),
    (S.DELIVERED, MONDAY_WORDS),
])
def test_the_date_of_the_status_is_in_the_local_format(
        status: OrderStatus, words: Dict[str, str], language: str) -> None:
    assert words[language] in d.describe_order(order(status), language, TODAY)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("status", [S.RECEIVED, S.PACKED, S.RETURNED, S.REFUNDED, S.CANCELLED])
def test_a_status_without_a_date_names_none(status: OrderStatus, language: str) -> None:
    assert not MONTHS.search(d.describe_order(order(status), language, TODAY))


@pytest.mark.parametrize("language", LANGUAGES)
def test_shipped_names_the_carrier_the_tracking_number_and_its_link(language: str) -> None:
    text = d.describe_order(order(S.SHIPPED), language, TODAY)
    assert "Posten/Bring" in text
    assert "370712345678901234" in text
    assert "https://sporing.posten.no/sporing/370712345678901234" in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_delivery_expected_tomorrow_says_tomorrow(language: str) -> None:
    shipped = order(S.SHIPPED, expected_delivery=TODAY + dt.timedelta(days=1))
    assert TOMORROW[language] in d.describe_order(shipped, language, TODAY)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_passed_expected_date_is_not_promised_again_and_a_person_is_offered(language: str) -> None:
    late = order(S.SHIPPED, expected_delivery=TODAY - dt.timedelta(days=1))
    text = d.describe_order(late, language, TODAY)
    assert d.offers_person(late, TODAY)
    assert d.order_text("expected_delivery_passed", language, date="i går") in text
    assert lines(text)[-1] == d.order_text(d.DELAYED_OFFER_PERSON, language)
    assert not d.offers_person(order(S.SHIPPED), TODAY)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_delayed_order_apologises_gives_the_new_estimate_and_offers_a_person(language: str) -> None:
    text = d.describe_order(order(S.DELAYED), language, TODAY)
    assert lines(text)[0] == d.order_text("status_delayed", language, order_number="40918273")
    assert d.order_text("delayed_new_estimate", language, date=FRIDAY_WORDS[language]) in text
    assert lines(text)[-1] == d.order_text(d.DELAYED_OFFER_PERSON, language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_delayed_order_without_an_estimate_says_so_honestly(language: str) -> None:
    delayed = order(S.DELAYED, expected_delivery=None)
    text = d.describe_order(delayed, language, TODAY)
    assert d.order_text("delayed_no_estimate", language) in text
    assert not MONTHS.search(text)
    assert lines(text)[-1] == d.order_text(d.DELAYED_OFFER_PERSON, language)
    assert d.offers_person(delayed, TODAY)


def test_the_words_of_a_delay_say_sorry_and_that_no_date_is_known() -> None:
    texts = order_texts()
    assert "beklager" in texts["status_delayed"]["nb"]
    assert "beklager" in texts["status_delayed"]["da"]
    assert "beklagar" in texts["status_delayed"]["sv"]
    assert "ikke fått en ny leveringsdato" in texts["delayed_no_estimate"]["nb"]
    assert "ikke fået en ny leveringsdato" in texts["delayed_no_estimate"]["da"]
    assert "inte fått något nytt leveransdatum" in texts["delayed_no_estimate"]["sv"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_at_the_pickup_point_says_where_and_until_when(language: str) -> None:
    text = d.describe_order(order(S.AT_PICKUP_POINT), language, TODAY)
    assert PICKUP in lines(text)[0]
    assert d.order_text("pickup_deadline", language, date=FRIDAY_WORDS[language]) == lines(text)[1]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_passed_pickup_deadline_is_not_given_as_a_deadline(language: str) -> None:
    late = order(S.AT_PICKUP_POINT, pickup_deadline=MONDAY)
    text = d.describe_order(late, language, TODAY)
    assert d.order_text("pickup_deadline_passed", language, date=MONDAY_WORDS[language]) in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_delivered_says_when_and_where_at_home_or_at_the_pickup_point(language: str) -> None:
    home = d.describe_order(order(S.DELIVERED, delivered_on=TODAY - dt.timedelta(days=1)), language, TODAY)
    assert lines(home)[0] == d.order_text("status_delivered_home", language, order_number="40918273",
                                          date="i går", address=HOME)
    collected = d.describe_order(order(S.DELIVERED, delivery="pickup_point", address=PICKUP),
                                 language, TODAY)
    assert lines(collected)[0] == d.order_text("status_delivered_pickup_point", language,
                                               order_number="40918273", date=MONDAY_WORDS[language],
                                               address=PICKUP)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_cancelled_order_says_when_the_money_comes_back(language: str) -> None:
    text = d.describe_order(order(S.CANCELLED, payment_method="vipps"), language, TODAY)
    assert lines(text)[1] == d.refund_promise("vipps", "NO", language)


# --- tracking links ---

@pytest.mark.parametrize(("carrier", "country", "link"), [
    ("posten_bring", "NO", "https://sporing.posten.no/sporing/AB123"),
    ("postnord", "NO", "https://www.postnord.no/sporing?id=AB123"),
    ("postnord", "DK", "https://www.postnord.dk/varktojer/track-trace?shipmentId=AB123"),
    ("postnord", "SE", "https://www.postnord.se/verktyg/sok-forsandelse?shipmentId=AB123"),
    ("gls", "DK", "https://gls-group.com/track/AB123"),
    ("dhl", "SE", "https://www.dhl.com/se-en/home/tracking.html?tracking-id=AB123"),
    ("dhl", "DK", "https://www.dhl.com/dk-en/home/tracking.html?tracking-id=AB123"),
    ("budbee", "SE", "https://tracking.budbee.com/AB123"),
])
def test_each_carrier_links_to_its_tracking_page_for_the_country(
        carrier: str, country: str, link: str) -> None:
    assert d.tracking_link(carrier, "AB123", country) == link


def test_the_tracking_number_is_url_quoted() -> None:
    assert d.tracking_link("budbee", "AB 12/3?x=1", "SE") == "https://tracking.budbee.com/AB%2012%2F3%3Fx%3D1"
    assert d.tracking_link("postnord", "A&B", "DK").endswith("shipmentId=A%26B")


def test_no_link_without_a_known_carrier_or_a_number() -> None:
    assert d.tracking_link("pony_express", "AB123", "NO") is None
    assert d.tracking_link(None, "AB123", "NO") is None
    assert d.tracking_link("gls", None, "DK") is None
    assert d.tracking_link("postnord", "AB123", "FI") is None
    # DHL has an international page for a country without its own
    assert d.tracking_link("dhl", "AB123", "FI") == (
        "https://www.dhl.com/global-en/home/tracking.html?tracking-id=AB123")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_carrier_without_a_link_still_gets_its_name_and_number(language: str) -> None:
    text = d.describe_order(order(S.SHIPPED, carrier="pony_express"), language, TODAY)
    assert "pony_express" in text and "370712345678901234" in text and "http" not in text


def test_carrier_names_are_the_brands() -> None:
    assert [d.carrier_name(c) for c in ("posten_bring", "postnord", "gls", "dhl", "budbee")] == [
        "Posten/Bring", "PostNord", "GLS", "DHL", "Budbee"]


# --- refunds ---

@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("method", "country", "facts"), [
    ("card", "NO", ["3–5"]),
    ("vipps", "NO", ["Vipps", "1–3"]),
    ("mobilepay", "DK", ["MobilePay", "1–3"]),
    ("swish", "SE", ["Swish", "1–3"]),
    ("klarna", "SE", ["Klarna", "5 "]),
])
def test_the_refund_promise_names_the_time_of_the_payment_method(
        method: str, country: str, facts: List[str], language: str) -> None:
    promise = d.refund_promise(method, country, language)
    assert all(fact in promise for fact in facts), promise


def test_a_gift_card_gets_its_money_back_at_once_on_the_gift_card() -> None:
    assert "gavekortet" in d.refund_promise("gift_card", "NO", "nb")
    assert "gavekort" in d.refund_promise("gift_card", "DK", "da")
    assert "presentkort" in d.refund_promise("gift_card", "SE", "sv")


def test_klarna_says_nothing_is_to_be_paid() -> None:
    assert "ikke betale noe" in d.refund_promise("klarna", "NO", "nb")
    assert "ikke betale noget" in d.refund_promise("klarna", "DK", "da")
    assert "inte betala något" in d.refund_promise("klarna", "SE", "sv")


def test_a_wallet_outside_its_country_or_an_unknown_method_gets_the_general_promise() -> None:
    general = d.order_text("refund_other", "da")
    assert d.refund_promise("vipps", "DK", "da") == general
    assert d.refund_promise("swish", "NO", "da") == general
    assert d.refund_promise("paypal", "DK", "da") == general


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_card_refund_after_cancelling_is_the_reservation_faq_describes(language: str) -> None:
    # faq.yml: the amount is reserved at ordering and released on cancellation
    stem = {"nb": "reserv", "da": "reserv", "sv": "reserv"}[language]
    assert stem in load_content()["cancel_order"][language]
    assert stem in d.refund_promise("card", "NO", language)


# --- cancelling and changing ---

@pytest.mark.parametrize("language", LANGUAGES)
def test_cancelling_names_the_order_then_says_when_the_money_comes_back(language: str) -> None:
    received = order(S.RECEIVED, payment_method="klarna")
    assert "40918273" in d.cancel_confirmation(received, language)
    done = d.cancellation_done(replace(received, status=S.CANCELLED), language)
    assert "40918273" in lines(done)[0]
    assert lines(done)[1] == d.refund_promise("klarna", "NO", language)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("status", "key"), [
    (S.PACKED, "cancel_too_late_packed"), (S.SHIPPED, "cancel_too_late_sent"),
    (S.DELAYED, "cancel_too_late_sent"), (S.AT_PICKUP_POINT, "cancel_too_late_sent"),
    (S.DELIVERED, "cancel_too_late_delivered"),
])
def test_too_late_to_cancel_explains_the_return_and_offers_a_person(
        status: OrderStatus, key: str, language: str) -> None:
    text = d.cannot_cancel(order(status), language, TODAY)
    assert lines(text) == [d.order_text(key, language, order_number="40918273"),
                           d.order_text(d.OFFER_PERSON, language)]
    assert "/retur" in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_closed_order_that_cannot_be_cancelled_says_its_status(language: str) -> None:
    refunded = order(S.REFUNDED)
    text = d.cannot_cancel(refunded, language, TODAY)
    assert text.startswith(d.describe_order(refunded, language, TODAY))
    assert lines(text)[-1] == d.order_text(d.OFFER_PERSON, language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_return_in_a_too_late_answer_matches_the_faq(language: str) -> None:
    """The return period and cost are the ones the return answer gives."""
    faq = load_content()["return_policy"][language]
    cost = re.search(r"(\d+) kr", faq)
    assert cost is not None and "30 dag" in faq
    for key in ("cancel_too_late_packed", "cancel_too_late_sent", "cancel_too_late_delivered"):
        text = order_texts()[key][language]
        assert f"{cost.group(1)} kr" in text and "30 dag" in text, key


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("status", "key"), [
    (S.PACKED, "change_too_late_packed"), (S.SHIPPED, "change_too_late_sent"),
    (S.AT_PICKUP_POINT, "change_too_late_sent"),
])
def test_too_late_to_change_says_why_and_offers_a_person(
        status: OrderStatus, key: str, language: str) -> None:
    assert lines(d.cannot_change(order(status), language, TODAY)) == [
        d.order_text(key, language, order_number="40918273"), d.order_text(d.OFFER_PERSON, language)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_change_asks_for_an_address_or_a_pickup_point_and_confirms_the_new_one(language: str) -> None:
    home, pickup = order(S.RECEIVED), order(S.RECEIVED, delivery="pickup_point", address=PICKUP)
    assert d.ask_new_delivery(home, language) == d.order_text("change_ask_address", language,
                                                              order_number="40918273")
    assert d.ask_new_delivery(pickup, language) == d.order_text("change_ask_pickup_point", language,
                                                                order_number="40918273")
    moved = replace(home, address="Markveien 35B, 0554 Oslo")
    assert "Markveien 35B, 0554 Oslo" in d.delivery_changed(moved, language)
    assert PICKUP in d.delivery_changed(pickup, language)


# --- what is never said ---

def _everything_said(language: str) -> List[str]:
    said = []
    for status in S:
        for delivery, address in (("home", HOME), ("pickup_point", PICKUP)):
            one = order(status, delivery=delivery, address=address)
            said += [d.describe_order(one, language, TODAY), d.cannot_cancel(one, language, TODAY),
                     d.cannot_change(one, language, TODAY), d.cancel_confirmation(one, language),
                     d.cancellation_done(one, language), d.ask_new_delivery(one, language),
                     d.delivery_changed(one, language)]
    return said


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_text_repeats_the_email(language: str) -> None:
    for text in _everything_said(language):
        assert EMAIL not in text and "ingrid.haugen" not in text and "@" not in text


NEUTRAL = (d.ASK_ORDER_NUMBER, d.ASK_CONTACT, d.NO_MATCH, d.HANDOFF_VERIFICATION_FAILED,
           d.HANDOFF_RATE_LIMITED, d.UNAVAILABLE_LOOKUP)


@pytest.mark.parametrize("language", LANGUAGES)
def test_texts_said_before_verification_have_no_place_for_an_order_fact(language: str) -> None:
    """The neutral answer is one fixed text: it cannot differ between an unknown number and
    a wrong e-mail or postcode, and cannot carry a fact of any order."""
    for key in NEUTRAL:
        assert _placeholders(order_texts()[key][language]) == set(), key


def _placeholders(text: str) -> set:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


def test_every_order_text_has_the_same_placeholders_in_every_language() -> None:
    for key, by_language in order_texts().items():
        assert len({frozenset(_placeholders(by_language[lang])) for lang in LANGUAGES}) == 1, key
