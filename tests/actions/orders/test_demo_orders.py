"""The demo store's seed: realistic orders in every state and country, dated relative to a day."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Set

import pytest

from actions.orders.demo_store import DemoOrderStore, seed
from actions.orders.port import Order, OrderStatus, order_to_json
from core.patterns import find_bare_order_number, find_details
from core.personal_data import find_personal_data
from tests.actions.orders.conftest import TODAY

S = OrderStatus
# what the issue asks for, per country
CARRIERS = {"NO": {"posten_bring", "postnord", "budbee"}, "DK": {"postnord", "gls", "dhl"},
            "SE": {"postnord", "dhl", "budbee"}}
PAYMENTS = {"NO": {"vipps", "card", "klarna", "gift_card"},
            "DK": {"mobilepay", "card", "klarna", "gift_card"},
            "SE": {"swish", "card", "klarna", "gift_card"}}
POSTCODE = {"NO": r"\d{4}", "DK": r"\d{4}", "SE": r"\d{3} \d{2}"}
ON_THE_WAY = {S.SHIPPED, S.DELAYED, S.AT_PICKUP_POINT, S.DELIVERED, S.RETURNED, S.REFUNDED}


def seeded(tmp_path: Path, today: dt.date, name: str = "orders.db") -> List[Order]:
    seed(tmp_path / name, today)
    return DemoOrderStore(tmp_path / name).all_orders()


def test_about_200_orders_cover_every_status_in_every_country(orders: List[Order]) -> None:
    assert len(orders) == 200
    seen: Dict[str, Set[OrderStatus]] = defaultdict(set)
    for order in orders:
        seen[order.country].add(order.status)
    assert seen == {country: set(OrderStatus) for country in ("NO", "DK", "SE")}
    for country in ("NO", "DK", "SE"):
        delayed = [o for o in orders if o.country == country and o.status == S.DELAYED]
        assert {o.expected_delivery is None for o in delayed} == {True, False}, country


def test_carriers_and_payment_methods_belong_to_the_country(orders: List[Order]) -> None:
    for country in ("NO", "DK", "SE"):
        mine = [o for o in orders if o.country == country]
        assert {o.carrier for o in mine if o.status == S.SHIPPED} == CARRIERS[country]
        assert {o.payment_method for o in mine} == PAYMENTS[country]
        # every refund rule can be tried on an order that can still be cancelled
        assert {o.payment_method for o in mine if o.status == S.RECEIVED} == PAYMENTS[country]
        assert {o.delivery for o in mine if o.status == S.RECEIVED} == {"home", "pickup_point"}
    budbee_in_norway = [o for o in orders if o.country == "NO" and o.carrier == "budbee"]
    assert budbee_in_norway and all(o.postcode[0] in "01" and o.delivery == "home" for o in budbee_in_norway)


def test_postcodes_emails_and_addresses_look_national(orders: List[Order]) -> None:
    domain = {"NO": "@example.no", "DK": "@example.dk", "SE": "@example.se"}
    for order in orders:
        assert re.fullmatch(POSTCODE[order.country], order.postcode), order
        assert order.email.endswith(domain[order.country]) and order.email == order.email.lower()
        assert re.fullmatch(r"[a-z0-9._]+@example\.(no|dk|se)", order.email), order.email
        assert re.search(POSTCODE[order.country] + r" \w", order.address), order.address
        currency = {"NO": "NOK", "DK": "DKK", "SE": "SEK"}[order.country]
        assert re.fullmatch(rf"\d{{1,3}}([ .]\d{{3}})?,00 {currency}", order.total), order.total
    assert any("Coop Extra Grünerløkka" in o.address for o in orders if o.delivery == "pickup_point")
    assert all(o.delivery == "pickup_point" for o in orders if o.status == S.AT_PICKUP_POINT)


def test_tracking_numbers_exist_once_a_parcel_is_on_its_way(orders: List[Order]) -> None:
    for order in orders:
        assert order.carrier in CARRIERS[order.country]
        assert (order.tracking_number is not None) == (order.status in ON_THE_WAY), order
    numbers = [o.tracking_number for o in orders if o.tracking_number]
    assert len(set(numbers)) == len(numbers)


def test_order_numbers_are_unique_and_read_as_order_numbers(orders: List[Order]) -> None:
    numbers = [o.number for o in orders]
    assert len(set(numbers)) == len(numbers)
    assert not {"40918273", "10483921"} & set(numbers)  # the examples in tests and the README
    for number in numbers:
        assert re.fullmatch(r"\d{8}", number)
        assert find_bare_order_number(number) == number
        assert [(f.entity, f.value) for f in find_details(f"ordre {number}")] == [("order_number", number)]
    by_date = sorted(orders, key=lambda o: (o.placed_at, o.number))
    assert [o.number for o in by_date] == sorted(numbers)  # numbers rise with the order date


def test_nothing_in_an_order_is_mistaken_for_personal_data(orders: List[Order]) -> None:
    # the bot says these back to customers: masking them would garble the answer
    for order in orders:
        for value in (order.number, order.tracking_number, order.total, order.address):
            assert not find_personal_data(value or ""), value


@pytest.mark.parametrize("today", [TODAY, dt.date(2027, 3, 14), dt.date(2026, 1, 1)])
def test_dates_are_relative_to_the_day_of_seeding(tmp_path: Path, today: dt.date) -> None:
    orders = seeded(tmp_path, today)
    for order in orders:
        assert today - dt.timedelta(days=70) <= order.placed_at <= today, order
        if order.status == S.RECEIVED:
            assert order.placed_at >= today - dt.timedelta(days=1)
        if order.status in (S.SHIPPED, S.DELAYED) and order.expected_delivery:
            assert today < order.expected_delivery <= today + dt.timedelta(days=7)
            assert order.expected_delivery.weekday() != 6  # no deliveries on Sundays
        if order.status == S.SHIPPED:
            assert order.expected_delivery is not None
        if order.status == S.AT_PICKUP_POINT:
            assert order.pickup_deadline is not None and order.pickup_deadline > today
        else:
            assert order.pickup_deadline is None
        if order.status in (S.DELIVERED, S.RETURNED, S.REFUNDED):
            assert order.delivered_on is not None and order.placed_at < order.delivered_on < today
        else:
            assert order.delivered_on is None


def test_the_same_day_gives_the_same_orders(tmp_path: Path) -> None:
    once = seeded(tmp_path, TODAY, "a.db")
    again = seeded(tmp_path, TODAY, "b.db")
    assert [order_to_json(o) for o in once] == [order_to_json(o) for o in again]


def test_another_day_gives_the_same_orders_moved_in_time(tmp_path: Path) -> None:
    later = TODAY + dt.timedelta(days=45)
    before = seeded(tmp_path, TODAY, "a.db")
    after = seeded(tmp_path, later, "b.db")
    assert [(o.number, o.email, o.status) for o in before] == [(o.number, o.email, o.status) for o in after]
    assert all(b.placed_at - a.placed_at == later - TODAY for a, b in zip(before, after, strict=True))
