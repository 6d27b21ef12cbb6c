"""Rasa's tracker store keeps customers' messages with their personal data masked."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import TunedSQLTrackerStore

FNR = "15076500565"


def test_a_customers_identity_number_is_stored_masked_and_an_order_number_kept(tmp_path: Path) -> None:
    db = tmp_path / "trackers.db"
    store = TunedSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(db))
    text = f"fnr {FNR}, ordre 40918273"
    parse = {"text": text, "intent": {"name": "track_order", "confidence": 0.9}, "entities": [],
             "questions": [{"text": f"fnr {FNR}", "intent": "x", "confidence": 0.9}]}
    tracker = DialogueStateTracker.from_events("c1", [
        ActionExecuted("action_listen"), UserUttered(text, parse["intent"], [], parse_data=parse)])
    asyncio.run(store.save(tracker))
    raw = "\n".join(row[0] for row in sqlite3.connect(db).execute("SELECT data FROM events"))
    assert FNR not in raw and "40918273" in raw
    # the tracker in memory, which the running conversation goes on with, is unchanged
    assert tracker.latest_message.text == text
