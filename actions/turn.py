"""Runs after every customer message (a custom slot mapping): keeps the slots that
describe the conversation itself, not what the customer asked."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.language import DETECTION_KEY, LANGUAGE_SLOT, choose_language
from bot.components.patterns import find_bare_order_number

WELCOMED_SLOT = "welcomed"
ORDER_SLOT = "order_number"
ORDER_QUESTION = "utter_ask_order_number"


def bot_has_spoken(events: List[Dict[Text, Any]]) -> bool:
    """Whether the bot said anything yet; until then every reply starts with a welcome."""
    return any(event.get("event") == "bot" for event in events)


def last_bot_response(events: List[Dict[Text, Any]]) -> Text | None:
    """The name of the bot's latest response before this message."""
    for event in reversed(events):
        if event.get("event") == "bot":
            return (event.get("metadata") or {}).get("utter_action")
    return None


class ActionReadTurn(Action):
    """Sets `language` (when it changes), `welcomed` (once the bot has spoken) and
    `order_number` when the customer answers "which order?" with just the number."""

    def name(self) -> Text:
        return "action_read_turn"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        events: List[EventType] = []
        current = tracker.get_slot(LANGUAGE_SLOT)
        chosen = choose_language(current, tracker.latest_message.get(DETECTION_KEY))
        if chosen != current:
            events.append(SlotSet(LANGUAGE_SLOT, chosen))
        welcomed = bot_has_spoken(tracker.events)
        if welcomed != bool(tracker.get_slot(WELCOMED_SLOT)):
            events.append(SlotSet(WELCOMED_SLOT, welcomed))
        if not tracker.get_slot(ORDER_SLOT) and last_bot_response(tracker.events) == ORDER_QUESTION:
            number = find_bare_order_number(tracker.latest_message.get("text") or "")
            if number:
                events.append(SlotSet(ORDER_SLOT, number))
        return events
