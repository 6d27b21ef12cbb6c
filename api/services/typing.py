"""Typing signals relayed at most once per interval per conversation and sender.

A widget or console sends "typing" on every few keystrokes; the other side only needs to
know that someone is typing, so the signals within an interval are dropped before they cost
a database query. In memory, per process: an indicator is best-effort, and a restart at
worst relays one signal more.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Hashable


class TypingThrottle:
    """When each key (conversation and sender) last had a signal relayed."""

    def __init__(self, interval_seconds: float) -> None:
        self._interval = dt.timedelta(seconds=interval_seconds)
        # oldest relay first, so the keys past their interval are forgotten from the front
        self._last: OrderedDict[Hashable, dt.datetime] = OrderedDict()
        # the agents' typing route runs in worker threads, the customers' on the event loop
        self._lock = threading.Lock()

    def allow(self, key: Hashable, now: dt.datetime) -> bool:
        """True (and remembered) if `key` had no signal relayed within the interval."""
        with self._lock:
            self._forget_before(now - self._interval)
            last = self._last.get(key)
            # a clock set back (NTP) must not silence a key until it catches up again
            if last is not None and last <= now < last + self._interval:
                return False
            self._last[key] = now
            self._last.move_to_end(key)
            return True

    def release(self, key: Hashable) -> None:
        """Forget `key`'s last relay: the signal `allow` let through was refused after all."""
        with self._lock:
            self._last.pop(key, None)

    def _forget_before(self, cutoff: dt.datetime) -> None:
        while self._last:
            key, last = next(iter(self._last.items()))
            if last > cutoff:
                return
            del self._last[key]
