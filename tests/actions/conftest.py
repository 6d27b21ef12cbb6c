"""Trackers for action tests, built the way Rasa sends them to the action server."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Optional
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker

OSLO = ZoneInfo("Europe/Oslo")


def user_event(text: str, intent: str, confidence: float = 0.93) -> Dict[str, Any]:
    return {"event": "user", "text": text, "timestamp": 1_700_000_000.0, "parse_data": {
        "text": text, "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}]}}


def bot_event(text: str, response: str) -> Dict[str, Any]:
    return {"event": "bot", "text": text, "timestamp": 1_700_000_001.0,
            "metadata": {"utter_action": response}}


def tracker(
    events: List[Dict[str, Any]], slots: Optional[Dict[str, Any]] = None,
    sender_id: str = "conv-4711", ranking: Optional[List[Dict[str, Any]]] = None,
) -> Tracker:
    latest = next((e["parse_data"] for e in reversed(events) if e["event"] == "user"), {})
    if ranking is not None:
        latest = {**latest, "intent_ranking": ranking}
    return Tracker(sender_id, {"language": "nb", **(slots or {})}, latest, events,
                   False, None, {}, "action_listen")


def clock(moment: dt.datetime):
    return lambda: moment
