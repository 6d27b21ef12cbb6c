"""The SQLite demo store as an `OrderSystem`: verification, cancelling, changing delivery."""

from __future__ import annotations

import asyncio
import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import List, Union

import pytest

from actions.orders.demo_store import DemoOrderStore, ensure_seeded
from actions.orders.port import NotChangeable, Order, OrderStatus, OrderSystemUnavailable, UnknownOrder
from tests.actions.orders.conftest import first

S = OrderStatus


def test_verify_matches_the_email_in_any_case_or_the_postcode(store: DemoOrderStore,
                                                             orders: List[Order]) -> None:
    order = first(orders, S.SHIPPED, "NO")
    for contact in (order.email, f"  {order.email.upper()} ", order.postcode, f" {order.postcode} "):
        assert asyncio.run(store.verify(order.number, contact)) == order, contact
    assert asyncio.run(store.verify(f"NH-{order.number}", order.email)) == order


def test_a_swedish_postcode_matches_with_or_without_its_space(store: DemoOrderStore,
                                                             orders: List[Order]) -> None:
    order = first(orders, S.DELIVERED, "SE")
    assert " " in order.postcode
    assert asyncio.run(store.verify(order.number, order.postcode)) == order
    assert asyncio.run(store.verify(order.number, order.postcode.replace(" ", ""))) == order


def test_a_wrong_contact_gets_the_same_none_as_an_unknown_number(store: DemoOrderStore,
                                                                  orders: List[Order]) -> None:
    order, other = first(orders, S.SHIPPED, "DK"), first(orders, S.DELIVERED, "NO")
    numbers = {o.number for o in orders}
    unknown = next(str(n) for n in range(int(order.number), int(order.number) + 1000)
                   if str(n) not in numbers)
    for number, contact in [(order.number, other.email), (order.number, "9999"), (order.number, ""),
                            (order.number, order.email.split("@")[0]), (unknown, order.email),
                            ("12345", order.email)]:
        assert asyncio.run(store.verify(number, contact)) is None, (number, contact)
    assert asyncio.run(store.find(unknown)) is None
    assert asyncio.run(store.find(order.number)) == order


def test_a_received_order_is_cancelled_once(store_path: Path, orders: List[Order]) -> None:
    order = first(orders, S.RECEIVED, "SE")
    cancelled = asyncio.run(DemoOrderStore(store_path).cancel(order.number))
    assert cancelled.status == S.CANCELLED and cancelled.number == order.number
    assert asyncio.run(DemoOrderStore(store_path).find(order.number)) == cancelled  # stored
    with pytest.raises(NotChangeable) as refused:
        asyncio.run(DemoOrderStore(store_path).cancel(order.number))
    assert refused.value.order == cancelled


@pytest.mark.parametrize("status", [S.PACKED, S.SHIPPED, S.AT_PICKUP_POINT, S.DELIVERED])
def test_an_order_past_packing_is_not_cancelled(store: DemoOrderStore, orders: List[Order],
                                                status: OrderStatus) -> None:
    order = first(orders, status)
    with pytest.raises(NotChangeable) as refused:
        asyncio.run(store.cancel(order.number))
    assert refused.value.order == order
    assert asyncio.run(store.find(order.number)) == order  # untouched


def test_of_concurrent_cancels_exactly_one_succeeds(store_path: Path, orders: List[Order]) -> None:
    def cancel(number: str) -> Union[Order, NotChangeable]:
        try:
            return asyncio.run(DemoOrderStore(store_path).cancel(number))
        except NotChangeable as refused:
            return refused

    for order in [o for o in orders if o.status == S.RECEIVED][:5]:
        with ThreadPoolExecutor(max_workers=6) as pool:
            results = list(pool.map(cancel, [order.number] * 6))
        assert sum(isinstance(result, Order) for result in results) == 1, results
        assert all(r.order.status == S.CANCELLED for r in results if isinstance(r, NotChangeable))


def test_concurrent_cancels_on_one_event_loop(store: DemoOrderStore, orders: List[Order]) -> None:
    order = first(orders, S.RECEIVED, "NO")

    async def both() -> List[object]:
        return await asyncio.gather(store.cancel(order.number), store.cancel(order.number),
                                    return_exceptions=True)

    results = asyncio.run(both())
    assert sorted(type(result).__name__ for result in results) == ["NotChangeable", "Order"]


def test_delivery_changes_only_before_packing(store: DemoOrderStore, orders: List[Order]) -> None:
    order = first(orders, S.RECEIVED, "DK")
    point = "Netto Nørrebrogade, Nørrebrogade 150, 2200 København N"
    moved = asyncio.run(store.change_delivery(order.number, pickup_point=point))
    assert (moved.delivery, moved.address, moved.status) == ("pickup_point", point, S.RECEIVED)
    home = asyncio.run(store.change_delivery(order.number, address=" Jagtvej 12, 2. th., 2200 København N "))
    assert (home.delivery, home.address) == ("home", "Jagtvej 12, 2. th., 2200 København N")
    assert asyncio.run(store.find(order.number)) == home

    packed = first(orders, S.PACKED, "DK")
    with pytest.raises(NotChangeable):
        asyncio.run(store.change_delivery(packed.number, address="Jagtvej 12, 2200 København N"))
    assert asyncio.run(store.find(packed.number)) == packed


def test_a_change_needs_exactly_one_new_place_and_a_known_order(store: DemoOrderStore,
                                                                orders: List[Order]) -> None:
    order = first(orders, S.RECEIVED)
    with pytest.raises(ValueError):
        asyncio.run(store.change_delivery(order.number))
    with pytest.raises(ValueError):
        asyncio.run(store.change_delivery(order.number, address="Markveien 1, 0552 Oslo",
                                          pickup_point="Kiwi Majorstuen, Kirkeveien 64, 0364 Oslo"))
    with pytest.raises(UnknownOrder):
        asyncio.run(store.cancel("99999999"))
    with pytest.raises(UnknownOrder):
        asyncio.run(store.cancel("not a number"))
    assert asyncio.run(store.find(order.number)) == order


def test_a_missing_store_is_unavailable_and_not_created(tmp_path: Path) -> None:
    store = DemoOrderStore(tmp_path / "missing.db")
    with pytest.raises(OrderSystemUnavailable):
        asyncio.run(store.verify("11400000", "someone@example.no"))
    assert not (tmp_path / "missing.db").exists()


def test_an_existing_store_is_kept_when_seeding_if_missing(store_path: Path, orders: List[Order]) -> None:
    order = first(orders, S.RECEIVED)
    asyncio.run(DemoOrderStore(store_path).cancel(order.number))
    assert ensure_seeded(store_path, dt.date(2027, 1, 1)) is False
    assert asyncio.run(DemoOrderStore(store_path).find(order.number)).status == S.CANCELLED  # type: ignore[union-attr]
    fresh = store_path.with_name("fresh.db")
    assert ensure_seeded(fresh, dt.date(2027, 1, 1)) is True
    assert DemoOrderStore(fresh).seeded_for() == "2027-01-01"
