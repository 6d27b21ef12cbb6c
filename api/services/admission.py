"""How many customer messages one service process has at Rasa at once, and what happens to
the rest: a short wait, then a fast, honest refusal.

Rasa answers a few messages a second per process; sending it more at once only makes every
answer slower, until all of them time out. So at most `max_in_flight` messages go to Rasa at
a time. The next `max_waiting` wait for a free slot, at most `wait_seconds`; beyond that a
message is refused at once (`Busy`, answered 503 with Retry-After) *before* it is stored, so
the widget can send the same message again without it being kept twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from api import metrics


class Busy(Exception):
    """No slot at Rasa now; `retry_after` whole seconds to wait before sending again."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"busy: retry after {retry_after} s")
        self.retry_after = retry_after


class Admission:
    """The slots at Rasa of one process, and its short queue (used on one event loop)."""

    def __init__(self, max_in_flight: int, max_waiting: int, wait_seconds: float,
                 retry_after: int) -> None:
        self.max_waiting = max_waiting
        self.wait_seconds = wait_seconds
        self.retry_after = retry_after
        self._slots = asyncio.Semaphore(max_in_flight)
        self.waiting = 0

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """A slot at Rasa for the block, or `Busy` at once when the queue is full, or after
        `wait_seconds` in it."""
        if self._slots.locked():
            if self.waiting >= self.max_waiting:
                metrics.REFUSED_BUSY.inc()
                raise Busy(self.retry_after)
            self.waiting += 1
            try:
                # cancelled at the deadline, the semaphore's own acquire gives back a slot it
                # was just handed, so none is lost
                async with asyncio.timeout(self.wait_seconds):
                    await self._slots.acquire()
            except TimeoutError:
                metrics.REFUSED_BUSY.inc()
                raise Busy(self.retry_after) from None
            finally:
                self.waiting -= 1
        else:
            await self._slots.acquire()  # free: taken without waiting
        try:
            yield
        finally:
            self._slots.release()
