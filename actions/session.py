"""Starting a conversation: take the caller's language hint before the first message."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.language import LANGUAGE_SLOT, language_from_metadata


class ActionSessionStart(Action):
    """Rasa's session start, plus the `language` slot from the session's metadata."""

    def name(self) -> Text:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        events: List[EventType] = [SessionStarted()]
        # carry the slots of the previous session over, as carry_over_slots_to_new_session says
        events.extend(
            SlotSet(name, value)
            for name, value in tracker.current_slot_values().items()
            if value is not None and name != "session_started_metadata"
        )
        hint = language_from_metadata(tracker.get_slot("session_started_metadata"))
        if hint:
            events.append(SlotSet(LANGUAGE_SLOT, hint))
        events.append(ActionExecuted("action_listen"))
        return events
