"""Rasa's SQL tracker store with SQLite tuned for a chat server.

Rasa opens SQLite with its defaults: a rollback journal and a full fsync on every
commit, which under load made saving and reading trackers a third of the server's
CPU time (docs/benchmarks.md). Write-ahead logging with synchronous=NORMAL survives a
crash of the process; only an OS crash or power cut can lose the last commits.
PostgreSQL (dialect: postgresql) is passed through unchanged.
"""

from __future__ import annotations

from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy import event


def _tune_sqlite(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class TunedSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore whose SQLite connections use WAL and synchronous=NORMAL."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _tune_sqlite)
            self.engine.dispose()  # connections opened while creating tables are replaced
