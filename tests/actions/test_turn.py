import asyncio

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.turn import ActionReadTurn


def tracker(slots: dict, verdict: dict, events: list) -> Tracker:
    return Tracker("c1", slots, {"text": "x", "language_detection": verdict},
                   events, False, None, {}, "action_listen")


def run(slots: dict, verdict: dict, events: list | None = None) -> list:
    return asyncio.run(ActionReadTurn().run(CollectingDispatcher(),
                                            tracker(slots, verdict, events or []), {}))


def test_language_slot_changes_only_on_a_clear_switch() -> None:
    clear = {"language": "da", "confidence": 0.97, "clear": True}
    unclear = {"language": "da", "confidence": 0.5, "clear": False}
    assert run({"language": "nb"}, clear) == [SlotSet("language", "da")]
    assert run({"language": "nb"}, unclear) == []


def test_first_message_is_not_yet_welcomed_later_ones_are() -> None:
    verdict = {"language": "sv", "confidence": 0.99, "clear": True}
    assert run({"language": "sv", "welcomed": False}, verdict) == []
    spoken = [{"event": "bot", "text": "Hej och välkommen!"}]
    assert run({"language": "sv", "welcomed": False}, verdict, spoken) == [
        SlotSet("welcomed", True)
    ]
