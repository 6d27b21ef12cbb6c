"""The port's helpers: how customers write order numbers and contacts, and the JSON shape."""

from __future__ import annotations

import datetime as dt

import pytest

from actions.orders.port import (
    Order,
    OrderStatus,
    contact_matches,
    normalise_contact,
    normalise_order_number,
    order_from_json,
    order_to_json,
)

ORDER = Order(number="11400512", email="ingrid.haugen@example.no", postcode="0555", country="NO",
              status=OrderStatus.SHIPPED, placed_at=dt.date(2026, 12, 1), payment_method="vipps",
              total="1 249,00 NOK", delivery="home", address="Markveien 35B, 0555 Oslo",
              carrier="posten_bring", tracking_number="370712345678901234",
              expected_delivery=dt.date(2026, 12, 7))
SWEDISH = Order(number="11400777", email="karin.lindqvist@example.se", postcode="113 51",
                country="SE", status=OrderStatus.RECEIVED, placed_at=dt.date(2026, 12, 3),
                payment_method="swish", total="599,00 SEK", delivery="pickup_point",
                address="ICA Supermarket Odenplan, Odengatan 63, 113 22 Stockholm")


@pytest.mark.parametrize("written", ["40918273", "NH-40918273", "nh40918273", "NH 4091 8273",
                                     "4091 8273", "4091-8273", " #40918273 "])
def test_order_numbers_as_customers_write_them(written: str) -> None:
    assert normalise_order_number(written) == "40918273"


@pytest.mark.parametrize("written", ["4091827", "409182731", "order 40918273", "40918273x", "", "NH-"])
def test_anything_but_eight_digits_is_no_order_number(written: str) -> None:
    assert normalise_order_number(written) is None


def test_contacts_are_compared_by_email_in_any_case_or_by_postcode_digits() -> None:
    assert normalise_contact("  Ingrid.Haugen@Example.NO ") == "ingrid.haugen@example.no"
    assert normalise_contact("<ingrid.haugen@example.no>.") == "ingrid.haugen@example.no"
    assert normalise_contact("114 55") == normalise_contact("11455") == "11455"
    assert contact_matches(ORDER, " INGRID.haugen@example.no")
    assert contact_matches(ORDER, "0555")
    assert contact_matches(SWEDISH, "11351") and contact_matches(SWEDISH, "113 51")


@pytest.mark.parametrize("wrong", ["ingrid.haugen@example.dk", "0556", "555", "", "  ", "Oslo",
                                   "haugen@example.no"])
def test_a_wrong_or_partial_contact_does_not_match(wrong: str) -> None:
    assert not contact_matches(ORDER, wrong)


def test_json_round_trip_keeps_every_field() -> None:
    data = order_to_json(ORDER)
    assert data["status"] == "shipped" and data["expected_delivery"] == "2026-12-07"
    assert data["pickup_deadline"] is None
    assert order_from_json(data) == ORDER
    assert order_from_json(order_to_json(SWEDISH)) == SWEDISH


@pytest.mark.parametrize("broken", [
    {"status": "lost_in_space"}, {"number": "1234"}, {"placed_at": "yesterday"}, {"email": None},
    {"country": "FI"}, {"expected_delivery": 20261207}, {"carrier": 7},
])
def test_malformed_orders_are_refused(broken: dict) -> None:
    with pytest.raises(ValueError):
        order_from_json({**order_to_json(ORDER), **broken})
    with pytest.raises(ValueError):
        order_from_json(["not", "an", "object"])  # type: ignore[arg-type]
