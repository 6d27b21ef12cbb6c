"""A background job's round runs in one service process at a time (outbox, purge).

With several service processes on one PostgreSQL database, each runs the outbox worker
and the purge; a round takes a PostgreSQL advisory lock first, and a process that does not
get it skips the round. So one helpdesk event is never sent by two processes at once, and
a helpdesk still receives its events in order. The lock belongs to a database connection:
if the process holding it dies, PostgreSQL releases it with the connection, and another
process runs the next round.

SQLite is one process's file (the default, `make run`): there the round always runs.
"""

from __future__ import annotations

import hashlib
from typing import Optional

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for pg_try_advisory_lock, from the job's name."""
    return int.from_bytes(hashlib.sha256(f"nordhem:{name}".encode()).digest()[:8], "big",
                          signed=True)


class JobLock:
    """`acquire()` (non-blocking) then `release()`; each blocks briefly on the database, so
    async callers run them in a thread."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine, self.name, self.key = engine, name, lock_key(name)
        self._connection: Optional[Connection] = None

    @property
    def shared(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def acquire(self) -> bool:
        """True when this process may run the round now."""
        if not self.shared:
            return True
        connection = self.engine.connect()
        try:
            held = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                           {"key": self.key}).scalar())
            connection.commit()
        except Exception:
            # it may hold the lock after all: such a connection never goes back to the pool
            connection.invalidate()
            connection.close()
            raise
        if not held:
            connection.close()
            return False
        self._connection = connection
        return True

    def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            connection.commit()
        except Exception:
            # not unlocked: closing the connection (not pooling it) ends the lock with it
            connection.invalidate()
            raise
        finally:
            connection.close()
