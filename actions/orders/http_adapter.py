"""`OrderSystem` over a shop's own REST API: the small bridge a shop writes to its order system.

The API, under a base URL (NORDHEM_ORDERS_URL), JSON in and out, every request with the header
`Authorization: Bearer <NORDHEM_ORDERS_TOKEN>`:

    GET  {base}/orders/{number}
         200 the order | 404 unknown
    POST {base}/orders/{number}/verify     {"email_or_postcode": "ingrid.haugen@example.no"}
         200 the order when the e-mail or postcode is the one on it | 404 otherwise: an unknown
         number and a wrong e-mail or postcode must get the same answer
    POST {base}/orders/{number}/cancel
         200 the cancelled order | 409 the order (at least {"status": "packed"}) when it is
         past the point of cancelling | 404 unknown
    POST {base}/orders/{number}/delivery   {"address": "..."} or {"pickup_point": "..."}
         200 the changed order | 409 as for cancel | 404 unknown

`{number}` is the order's 8 digits. An order is an object with the fields of
`actions.orders.port.Order`: number, email, postcode, country (NO, DK, SE), status (received,
packed, shipped, delayed, at_pickup_point, delivered, returned, refunded, cancelled),
placed_at, payment_method, total, delivery (home, pickup_point), address, carrier,
tracking_number, expected_delivery, pickup_deadline, delivered_on; dates as YYYY-MM-DD, absent
values null.

A timeout, a refused connection, a 5xx, any other unexpected status or a body that is not such
an order raises `OrderSystemUnavailable`: the bot tells the customer honestly that it could not
check and hands over. Reads (GET and verify) are tried once more after a connection error or a
5xx. After `failures` calls in a row have failed, a circuit breaker answers every call with
`OrderSystemUnavailable` at once for `cooldown` seconds, then lets one trial call through.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Callable, Dict, FrozenSet, Optional, Tuple

import aiohttp

from actions.http_session import LoopSession
from actions.orders.port import (
    NotChangeable,
    Order,
    OrderSystemUnavailable,
    UnknownOrder,
    contact_matches,
    normalise_order_number,
    order_from_json,
)

TIMEOUT_SECONDS = 3.0

logger = logging.getLogger(__name__)


class CircuitBreaker:
    """Closed, open after `failures` failed calls in a row, half-open after `cooldown` seconds.

    Half-open lets a single trial call through: its success closes the circuit, its failure
    opens it for another cool-down. Times come from the caller, so tests can move the clock.
    """

    def __init__(self, failures: int = 5, cooldown: float = 30.0) -> None:
        self.failures = failures
        self.cooldown = cooldown
        self._failed = 0
        self._opened_at: Optional[float] = None
        self._trial_running = False

    @property
    def state(self) -> str:
        if self._opened_at is None:
            return "closed"
        return "half_open" if self._trial_running else "open"

    def allow(self, now: float) -> bool:
        """Whether a call may go out now (taking the half-open trial if it is due)."""
        if self._opened_at is None:
            return True
        if self._trial_running or now - self._opened_at < self.cooldown:
            return False
        self._trial_running = True
        return True

    def succeeded(self) -> None:
        self._failed, self._opened_at, self._trial_running = 0, None, False

    def failed(self, now: float) -> None:
        self._failed += 1
        if self._trial_running or self._failed >= self.failures:
            self._opened_at, self._trial_running = now, False

    def abandoned(self) -> None:
        """A call that ended without an answer either way (cancelled): free the trial."""
        self._trial_running = False


class _Failure(Exception):
    """One attempt failed; `retry` says whether trying again may help."""

    def __init__(self, reason: str, retry: bool) -> None:
        super().__init__(reason)
        self.retry = retry


class HttpOrderSystem:
    """The shop's order system over its REST API (see the module docstring)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        timeout: float = TIMEOUT_SECONDS,
        retries: int = 1,
        breaker: Optional[CircuitBreaker] = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = timeout
        self.retries = retries
        self.breaker = breaker if breaker is not None else CircuitBreaker()
        self.clock = clock
        self._http = LoopSession(timeout)

    def __repr__(self) -> str:  # never the token
        return f"HttpOrderSystem({self.base_url!r})"

    async def close(self) -> None:
        await self._http.close()

    async def find(self, number: str) -> Optional[Order]:
        normalised = normalise_order_number(number)
        if normalised is None:
            return None
        status, order = await self._call("GET", normalised, "", None, idempotent=True)
        return order if status == 200 else None

    async def verify(self, number: str, email_or_postcode: str) -> Optional[Order]:
        normalised = normalise_order_number(number)
        if normalised is None or not email_or_postcode.strip():
            return None
        status, order = await self._call("POST", normalised, "/verify",
                                         {"email_or_postcode": email_or_postcode.strip()},
                                         idempotent=True)  # it reads, changes nothing
        if status != 200:
            return None
        if not contact_matches(order, email_or_postcode):
            # the bridge said yes to an e-mail or postcode that is not on the order: a bug
            # there must not disclose an order, so it counts as no match
            logger.warning("order API verified order %s for a contact that is not on it", normalised)
            return None
        return order

    async def cancel(self, number: str) -> Order:
        return await self._change(number, "/cancel", None)

    async def change_delivery(self, number: str, *, address: Optional[str] = None,
                              pickup_point: Optional[str] = None) -> Order:
        address, pickup_point = (address or "").strip(), (pickup_point or "").strip()
        if bool(address) == bool(pickup_point):
            raise ValueError("give either a new address or a new pickup point")
        body = {"address": address} if address else {"pickup_point": pickup_point}
        return await self._change(number, "/delivery", body)

    async def _change(self, number: str, action: str, payload: Optional[Dict[str, str]]) -> Order:
        normalised = normalise_order_number(number)
        if normalised is None:
            raise UnknownOrder(number)
        # Never retried: when the answer to a cancel that the shop carried out is lost, a second
        # try gets 409 (already cancelled) and the customer would be told that the order could
        # not be cancelled. An unanswered change is reported as unavailable instead.
        status, body = await self._call("POST", normalised, action, payload, idempotent=False)
        if status == 200:
            return body
        if status == 404:
            raise UnknownOrder(normalised)
        # 409: the bridge may answer with the whole order or only its status
        try:
            order = self._order(body, normalised)
        except OrderSystemUnavailable:
            found = await self.find(normalised)
            if found is None:
                raise OrderSystemUnavailable(f"order {normalised} refused but not found") from None
            order = found
        raise NotChangeable(order)

    def _order(self, body: Any, number: str) -> Order:
        try:
            order = order_from_json(body)
        except (ValueError, TypeError) as error:
            raise OrderSystemUnavailable(f"the order API answered with no valid order: {error}") from None
        if order.number != number:  # someone else's order must never reach this customer
            raise OrderSystemUnavailable(f"the order API answered about another order for {number}")
        return order

    async def _call(self, method: str, number: str, action: str, payload: Optional[Dict[str, str]],
                    *, idempotent: bool) -> Tuple[int, Any]:
        """(200, the order), (404, None) or, for changes, (409, the body); through the breaker."""
        if not self.breaker.allow(self.clock()):
            raise OrderSystemUnavailable("the order API is failing: circuit open")
        expected = frozenset({200, 404} if idempotent else {200, 404, 409})
        attempts = 1 + (self.retries if idempotent else 0)
        attempt = 0
        try:
            while True:
                attempt += 1
                try:
                    answer = await self._attempt(method, f"/orders/{number}{action}", payload, expected)
                except _Failure as failure:
                    logger.warning("order API %s /orders/%s%s, attempt %d: %s",
                                   method, number, action, attempt, failure)
                    if failure.retry and attempt < attempts:
                        continue
                    raise OrderSystemUnavailable(str(failure)) from None
                if answer[0] == 200:  # an answer that is not the order counts as a failure too
                    answer = (200, self._order(answer[1], number))
                self.breaker.succeeded()
                return answer
        except OrderSystemUnavailable:
            self.breaker.failed(self.clock())
            raise
        except BaseException:
            self.breaker.abandoned()
            raise

    async def _attempt(self, method: str, path: str, payload: Optional[Dict[str, str]],
                       expected: FrozenSet[int]) -> Tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        try:
            http = await self._http.get()
            async with http.request(method, self.base_url + path, json=payload,
                                    headers=headers) as response:
                status = response.status
                raw = await response.read()
        except asyncio.TimeoutError:
            # not retried: a shop that is this slow is busy, and the customer is waiting
            raise _Failure(f"no answer within {self.timeout:g} s", retry=False) from None
        except (aiohttp.ClientError, OSError) as error:
            raise _Failure(f"connection failed: {type(error).__name__}", retry=True) from None
        if status >= 500:
            raise _Failure(f"status {status}", retry=True)
        if status not in expected:
            # 401/403 (a wrong token) and the like: a setup fault that retrying does not mend
            raise _Failure(f"unexpected status {status}", retry=False)
        if status == 404:
            return status, None
        try:
            return status, json.loads(raw)
        except ValueError:
            raise _Failure(f"status {status} with a body that is not JSON", retry=False) from None
