"""Rasa's SQL tracker store with SQLite tuned for a chat server.

Rasa opens SQLite with its defaults: a rollback journal and a full fsync on every
commit, which under load made saving and reading trackers a third of the server's
CPU time (docs/benchmarks.md). Write-ahead logging with synchronous=NORMAL survives a
crash of the process; only an OS crash or power cut can lose the last commits.
PostgreSQL (dialect: postgresql) is passed through unchanged.

Customers' messages are stored with their personal data masked (core/personal_data.py):
traffic through the escalation service arrives masked already, and this covers anything
that reaches Rasa's REST channel directly.
"""

from __future__ import annotations

import copy
from typing import Any, Iterator

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import event

from core.personal_data import mask


def _tune_sqlite(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def masked_values(value: Any) -> Any:
    """Every string in a (nested) value with its personal data masked."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {key: masked_values(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked_values(item) for item in value]
    return value


def masked_event(event: Event) -> Event:
    """A customer's message as it may be stored: its text and parse data masked."""
    if not isinstance(event, UserUttered) or not event.text:
        return event
    stored = copy.copy(event)
    stored.text = mask(event.text)
    stored.parse_data = masked_values(event.parse_data)
    return stored


class TunedSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore whose SQLite connections use WAL and synchronous=NORMAL, and whose
    stored customer messages have their personal data masked."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _tune_sqlite)
            self.engine.dispose()  # connections opened while creating tables are replaced

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        return (masked_event(event) for event in super()._additional_events(session, tracker))
