"""The HTTP adapter against a real local shop bridge (tests/actions/orders/shop_api.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import socket
import time
from typing import Awaitable, Callable, List, TypeVar

import pytest

from actions.orders.http_adapter import CircuitBreaker, HttpOrderSystem
from actions.orders.port import NotChangeable, Order, OrderStatus, OrderSystemUnavailable, UnknownOrder
from tests.actions.orders.shop_api import TOKEN, ShopApi, shop_api

S = OrderStatus
R = TypeVar("R")

SHIPPED = Order(number="11400512", email="ingrid.haugen@example.no", postcode="0555", country="NO",
                status=S.SHIPPED, placed_at=dt.date(2026, 12, 1), payment_method="vipps",
                total="1 249,00 NOK", delivery="home", address="Markveien 35B, 0555 Oslo",
                carrier="posten_bring", tracking_number="370712345678901234",
                expected_delivery=dt.date(2026, 12, 7))
RECEIVED = Order(number="11400777", email="karin.lindqvist@example.se", postcode="113 51", country="SE",
                 status=S.RECEIVED, placed_at=dt.date(2026, 12, 3), payment_method="swish",
                 total="599,00 SEK", delivery="home", address="Sveavägen 98, 113 51 Stockholm",
                 carrier="postnord")
PACKED = dataclasses.replace(RECEIVED, number="11400901", status=S.PACKED, email="erik.berg@example.se")
ORDERS = [SHIPPED, RECEIVED, PACKED]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def run(system: HttpOrderSystem, call: Callable[[HttpOrderSystem], Awaitable[R]]) -> R:
    """One call on a fresh event loop, closing the adapter's session after it."""
    async def main() -> R:
        try:
            return await call(system)
        finally:
            await system.close()

    return asyncio.run(main())


def adapter(api: ShopApi, **options: object) -> HttpOrderSystem:
    return HttpOrderSystem(api.url, TOKEN, **options)  # type: ignore[arg-type]


def test_find_returns_the_shops_order_or_none_for_an_unknown_number() -> None:
    with shop_api(ORDERS) as api:
        system = adapter(api)
        assert run(system, lambda s: s.find("NH-1140 0512")) == SHIPPED
        assert run(system, lambda s: s.find("11499999")) is None
        assert run(system, lambda s: s.find("12")) is None  # not a number: the shop is not asked
        assert [(r.method, r.path) for r in api.requests] == [
            ("GET", "/api/orders/11400512"), ("GET", "/api/orders/11499999")]


def test_verify_gives_the_order_only_for_its_email_or_postcode() -> None:
    with shop_api(ORDERS) as api:
        system = adapter(api)
        assert run(system, lambda s: s.verify("11400512", " Ingrid.Haugen@EXAMPLE.no ")) == SHIPPED
        assert run(system, lambda s: s.verify("11400777", "11351")) == RECEIVED
        assert run(system, lambda s: s.verify("11400512", "karin.lindqvist@example.se")) is None
        assert run(system, lambda s: s.verify("11499999", "ingrid.haugen@example.no")) is None
        sent = api.requests[0]
        assert (sent.method, sent.path) == ("POST", "/api/orders/11400512/verify")
        assert sent.body == {"email_or_postcode": "Ingrid.Haugen@EXAMPLE.no"}


def test_the_token_goes_in_the_authorization_header_never_in_the_url() -> None:
    with shop_api(ORDERS) as api:
        system = adapter(api)
        run(system, lambda s: s.find("11400512"))
        run(system, lambda s: s.verify("11400512", "0555"))
        run(system, lambda s: s.cancel("11400777"))
        assert len(api.requests) == 3
        for request in api.requests:
            assert request.authorization == f"Bearer {TOKEN}"
            assert TOKEN not in request.path
        assert TOKEN not in repr(system)


def test_a_refused_token_makes_the_order_system_unavailable() -> None:
    with shop_api(ORDERS) as api:
        system = HttpOrderSystem(api.url, "wrong-token")
        with pytest.raises(OrderSystemUnavailable):
            run(system, lambda s: s.find("11400512"))
        assert api.calls() == 1  # not retried: a wrong token stays wrong


def test_a_received_order_is_cancelled_and_then_no_longer_changeable() -> None:
    with shop_api(ORDERS) as api:
        system = adapter(api)
        cancelled = run(system, lambda s: s.cancel("11400777"))
        assert cancelled == dataclasses.replace(RECEIVED, status=S.CANCELLED)
        with pytest.raises(NotChangeable) as refused:
            run(system, lambda s: s.cancel("11400777"))
        assert refused.value.order == cancelled
        with pytest.raises(UnknownOrder):
            run(system, lambda s: s.cancel("11499999"))


def test_a_conflict_with_only_a_status_is_completed_from_the_order() -> None:
    with shop_api(ORDERS) as api:
        api.short_conflicts = True
        with pytest.raises(NotChangeable) as refused:
            run(adapter(api), lambda s: s.cancel("11400901"))
        assert refused.value.order == PACKED
        assert [(r.method, r.path) for r in api.requests] == [
            ("POST", "/api/orders/11400901/cancel"), ("GET", "/api/orders/11400901")]


def test_delivery_changes_are_sent_and_refused_once_packed() -> None:
    point = "ICA Supermarket Odenplan, Odengatan 63, 113 22 Stockholm"
    with shop_api(ORDERS) as api:
        system = adapter(api)
        moved = run(system, lambda s: s.change_delivery("11400777", pickup_point=point))
        assert (moved.delivery, moved.address) == ("pickup_point", point)
        assert api.requests[-1].body == {"pickup_point": point}
        with pytest.raises(NotChangeable) as refused:
            run(system, lambda s: s.change_delivery("11400901", address="Odengatan 1, 113 46 Stockholm"))
        assert refused.value.order == PACKED


def test_a_server_error_is_retried_once_then_unavailable() -> None:
    with shop_api(ORDERS) as api:
        api.fail_with = 500
        with pytest.raises(OrderSystemUnavailable):
            run(adapter(api), lambda s: s.verify("11400512", "0555"))
        assert api.calls() == 2


def test_one_server_error_is_mended_by_the_retry() -> None:
    with shop_api(ORDERS) as api:
        api.fail_times = 1
        assert run(adapter(api), lambda s: s.find("11400512")) == SHIPPED
        assert api.calls() == 2


def test_a_cancel_is_never_retried() -> None:
    with shop_api(ORDERS) as api:
        api.fail_times = 1
        with pytest.raises(OrderSystemUnavailable):
            run(adapter(api), lambda s: s.cancel("11400777"))
        assert api.calls() == 1
        assert api.orders["11400777"].status == S.RECEIVED


def test_a_shop_that_does_not_answer_in_time_is_unavailable() -> None:
    with shop_api(ORDERS) as api:
        api.hang = True
        started = time.monotonic()
        with pytest.raises(OrderSystemUnavailable):
            run(adapter(api, timeout=0.3), lambda s: s.find("11400512"))
        assert time.monotonic() - started < 2.0
        assert api.calls() == 1  # a slow shop is not asked twice while the customer waits


def test_a_refused_connection_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    system = HttpOrderSystem(f"http://127.0.0.1:{port}", TOKEN)
    with pytest.raises(OrderSystemUnavailable):
        run(system, lambda s: s.find("11400512"))


def test_a_body_that_is_not_an_order_is_unavailable() -> None:
    with shop_api(ORDERS) as api:
        api.malformed = True
        with pytest.raises(OrderSystemUnavailable):
            run(adapter(api), lambda s: s.find("11400512"))
    with shop_api([dataclasses.replace(SHIPPED, number="11400512")]) as api:
        api.orders["11400513"] = SHIPPED  # the bridge answers 11400513 with 11400512's order
        with pytest.raises(OrderSystemUnavailable):
            run(adapter(api), lambda s: s.find("11400513"))


def test_a_bridge_that_verifies_any_contact_still_discloses_nothing() -> None:
    with shop_api(ORDERS) as api:
        api.says_yes_to_any_contact = True
        assert run(adapter(api), lambda s: s.verify("11400512", "somebody.else@example.no")) is None
        assert run(adapter(api), lambda s: s.verify("11400512", "ingrid.haugen@example.no")) == SHIPPED


def failing_calls(system: HttpOrderSystem, count: int) -> List[str]:
    outcomes = []
    for _ in range(count):
        try:
            run(system, lambda s: s.find("11400512"))
            outcomes.append("ok")
        except OrderSystemUnavailable:
            outcomes.append("unavailable")
    return outcomes


def test_the_breaker_opens_after_n_failures_and_spares_the_shop_while_open() -> None:
    clock = Clock()
    with shop_api(ORDERS) as api:
        api.fail_with = 503
        system = adapter(api, breaker=CircuitBreaker(failures=3, cooldown=30.0), clock=clock)
        assert failing_calls(system, 3) == ["unavailable"] * 3
        assert api.calls() == 6  # each call tried twice
        api.fail_with = None  # the shop is back, but the circuit is open
        clock.now += 29.0
        assert failing_calls(system, 4) == ["unavailable"] * 4
        assert api.calls() == 6


def test_after_the_cooldown_one_trial_call_closes_the_circuit_again() -> None:
    clock = Clock()
    with shop_api(ORDERS) as api:
        api.fail_with = 503
        system = adapter(api, breaker=CircuitBreaker(failures=2, cooldown=30.0), clock=clock)
        failing_calls(system, 2)
        api.fail_with = None
        clock.now += 30.0
        assert run(system, lambda s: s.find("11400512")) == SHIPPED
        assert system.breaker.state == "closed"
        assert failing_calls(system, 2) == ["ok", "ok"]
        assert api.calls() == 4 + 3


def test_a_failed_trial_opens_the_circuit_for_another_cooldown() -> None:
    clock = Clock()
    with shop_api(ORDERS) as api:
        api.fail_with = 500
        system = adapter(api, retries=0, breaker=CircuitBreaker(failures=2, cooldown=30.0), clock=clock)
        failing_calls(system, 2)
        clock.now += 31.0
        assert failing_calls(system, 1) == ["unavailable"]  # the trial, which fails
        assert api.calls() == 3
        api.fail_with = None
        clock.now += 29.0
        assert failing_calls(system, 1) == ["unavailable"] and api.calls() == 3
        clock.now += 1.0
        assert failing_calls(system, 1) == ["ok"] and api.calls() == 4


def test_half_open_lets_one_trial_through_at_a_time() -> None:
    breaker = CircuitBreaker(failures=1, cooldown=10.0)
    breaker.failed(now=0.0)
    assert not breaker.allow(now=5.0)
    assert breaker.allow(now=10.0) and breaker.state == "half_open"
    assert not breaker.allow(now=10.5)  # a second caller while the trial runs
    breaker.succeeded()
    assert breaker.allow(now=11.0) and breaker.allow(now=11.0)


def test_successes_in_between_reset_the_count_of_failures() -> None:
    breaker = CircuitBreaker(failures=3, cooldown=10.0)
    for _ in range(5):
        breaker.failed(now=0.0)
        breaker.failed(now=0.0)
        breaker.succeeded()
    assert breaker.state == "closed" and breaker.allow(now=0.0)


def test_answers_that_are_not_orders_open_the_breaker_too() -> None:
    clock = Clock()
    with shop_api(ORDERS) as api:
        api.orders["11400513"] = SHIPPED  # valid JSON, but another order's
        system = adapter(api, breaker=CircuitBreaker(failures=2, cooldown=30.0), clock=clock)
        for _ in range(2):
            with pytest.raises(OrderSystemUnavailable):
                run(system, lambda s: s.find("11400513"))
        assert system.breaker.state == "open" and api.calls() == 2
        with pytest.raises(OrderSystemUnavailable):
            run(system, lambda s: s.find("11400512"))
        assert api.calls() == 2
