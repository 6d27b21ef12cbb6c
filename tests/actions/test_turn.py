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
    clear = {"language": "da", "confidence": 0.97, "clear": True, "words": 6}
    unclear = {"language": "da", "confidence": 0.5, "clear": False, "words": 6}
    assert run({"language": "nb"}, clear) == [SlotSet("language", "da")]
    assert run({"language": "nb"}, unclear) == []


def test_first_message_is_not_yet_welcomed_later_ones_are() -> None:
    verdict = {"language": "sv", "confidence": 0.99, "clear": True}
    assert run({"language": "sv", "welcomed": False}, verdict) == []
    spoken = [{"event": "bot", "text": "Hej och välkommen!"}]
    assert run({"language": "sv", "welcomed": False}, verdict, spoken) == [
        SlotSet("welcomed", True)
    ]


def test_bare_number_answering_which_order_becomes_the_order_number() -> None:
    verdict = {"language": "nb", "confidence": 0.5, "clear": False, "words": 0}
    asked = [{"event": "bot", "text": "Hvilken ordre?",
              "metadata": {"utter_action": "utter_ask_order_number"}}]
    slots = {"language": "nb", "welcomed": True}
    tracker_ = Tracker("c1", slots, {"text": "10483921", "language_detection": verdict},
                       asked, False, None, {}, "action_listen")
    events = asyncio.run(ActionReadTurn().run(CollectingDispatcher(), tracker_, {}))
    assert events == [SlotSet("order_number", "10483921")]
    not_asked = [{"event": "bot", "text": "Hei", "metadata": {"utter_action": "utter_greet"}}]
    tracker_ = Tracker("c1", slots, {"text": "10483921", "language_detection": verdict},
                       not_asked, False, None, {}, "action_listen")
    assert asyncio.run(ActionReadTurn().run(CollectingDispatcher(), tracker_, {})) == []
