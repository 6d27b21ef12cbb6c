"""The conversation's own slots after each customer message: language, welcome, order."""

from __future__ import annotations

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.components.turn_slots import choose_language, turn_slot_events


def detection(language: str, clear: bool, words: int = 5) -> dict:
    return {"language": language, "confidence": 0.97 if clear else 0.5, "clear": clear,
            "words": words}


def test_conversation_without_language_takes_the_best_guess() -> None:
    assert choose_language(None, detection("sv", clear=False)) == "sv"


def test_unclear_message_keeps_the_conversation_language() -> None:
    assert choose_language("da", detection("nb", clear=False)) == "da"


def test_clear_switch_changes_the_language() -> None:
    assert choose_language("da", detection("sv", clear=True)) == "sv"


def test_short_reply_that_looks_like_another_language_is_not_a_switch() -> None:
    assert choose_language("sv", detection("da", clear=True, words=1)) == "sv"
    assert choose_language("sv", detection("da", clear=True, words=3)) == "da"


@pytest.mark.parametrize("verdict", [None, {}, {"language": "en", "clear": True, "words": 9}])
def test_missing_or_unknown_verdict_changes_nothing(verdict: dict | None) -> None:
    assert choose_language("nb", verdict) == "nb"


def tracker(text: str, verdict: dict, slots: dict, bot: list[BotUttered] | None = None
            ) -> DialogueStateTracker:
    events = [ActionExecuted("action_listen")]
    events += [SlotSet(name, value) for name, value in slots.items()]
    events += bot or []
    parse = {"text": text, "intent": {"name": "x", "confidence": 1.0}, "entities": [],
             "language_detection": verdict}
    events.append(UserUttered(text, parse["intent"], [], parse_data=parse))
    return DialogueStateTracker.from_events("c1", events)


def test_first_message_sets_the_language_and_is_not_yet_welcomed() -> None:
    events = turn_slot_events(tracker("hej", detection("sv", True), {"welcomed": False}))
    assert events == [SlotSet("language", "sv")]


def test_once_the_bot_has_spoken_the_conversation_is_welcomed() -> None:
    said = [BotUttered("Hej!", metadata={"utter_action": "utter_greet"})]
    events = turn_slot_events(tracker("ok", detection("sv", False), {"language": "sv",
                                                                     "welcomed": False}, said))
    assert events == [SlotSet("welcomed", True)]


def test_bare_number_answering_which_order_becomes_the_order_number() -> None:
    asked = [BotUttered("Hvilken ordre?", metadata={"utter_action": "utter_ask_order_number"})]
    slots = {"language": "nb", "welcomed": True}
    events = turn_slot_events(tracker("10483921", detection("nb", False, 0), slots, asked))
    assert events == [SlotSet("order_number", "10483921")]
    greeted = [BotUttered("Hei", metadata={"utter_action": "utter_greet"})]
    assert turn_slot_events(tracker("10483921", detection("nb", False, 0), slots, greeted)) == []


def test_first_unclear_message_takes_the_callers_hint() -> None:
    verdict = {**detection("nb", clear=False), "hint": "sv"}
    assert choose_language(None, verdict) == "sv"
    assert choose_language(None, {**detection("da", clear=True), "hint": "sv"}) == "da"


def test_an_email_address_is_never_a_switch_of_language() -> None:
    slots = {"language": "sv", "welcomed": True}
    said = [BotUttered("Tack!", metadata={})]
    # "ikke.meg@example.com" reads as four Norwegian-looking words, but they are a name
    address = tracker("ikke.meg@example.com", detection("nb", True, 4), slots, said)
    assert turn_slot_events(address) == []
    sentence = tracker("beklager, jeg skrev feil: ikke.meg@example.com", detection("nb", True, 8),
                       slots, said)
    assert turn_slot_events(sentence) == [SlotSet("language", "nb")]
