import asyncio

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.session import ActionSessionStart


def tracker(slots: dict) -> Tracker:
    return Tracker("c1", slots, {}, [], False, None, {}, "action_listen")


def test_session_takes_the_language_hint_from_its_metadata() -> None:
    events = asyncio.run(ActionSessionStart().run(
        CollectingDispatcher(), tracker({"session_started_metadata": {"language": "sv"}}), {}
    ))
    assert events[0] == SessionStarted()
    assert SlotSet("language", "sv") in events
    assert events[-1] == ActionExecuted("action_listen")


def test_session_carries_slots_over_and_ignores_a_bad_hint() -> None:
    events = asyncio.run(ActionSessionStart().run(
        CollectingDispatcher(),
        tracker({"language": "da", "order_number": "10483921",
                 "session_started_metadata": {"language": "xx"}}),
        {},
    ))
    assert SlotSet("language", "da") in events
    assert SlotSet("order_number", "10483921") in events
    assert not any(e.get("name") == "session_started_metadata" for e in events)
