"""A SQLite tracker store laid out as Rasa's SQLTrackerStore makes it (rasa/core/tracker_store.py,
`SQLEvent`: table `events`, one row per event), for the service's erasure and retention tests.
The real Rasa writing to it: tests/api/test_erasure.py's server test."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

METADATA = sa.MetaData()
EVENTS = sa.Table(
    "events", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)


def create_tracker_store(path: Path) -> str:
    """An empty tracker store at `path`; its SQLAlchemy URL."""
    url = f"sqlite:///{path}"
    engine = sa.create_engine(url)
    METADATA.create_all(engine)
    engine.dispose()
    return url


def add_events(path: Path, sender_id: str, count: int, timestamp: float) -> None:
    """`count` user events of the conversation, at `timestamp` (seconds since the epoch)."""
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(EVENTS.insert(), [
            {"sender_id": sender_id, "type_name": "user", "timestamp": timestamp + n,
             "intent_name": "delete_data",
             "data": json.dumps({"event": "user", "text": f"slett meg {n}"})}
            for n in range(count)])
    engine.dispose()


def count_events(path: Path, sender_id: str) -> int:
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        count = connection.scalar(sa.select(sa.func.count()).select_from(EVENTS)
                                  .where(EVENTS.c.sender_id == sender_id))
    engine.dispose()
    return int(count or 0)
