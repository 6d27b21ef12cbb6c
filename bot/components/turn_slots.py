"""The slots that describe the conversation itself, kept after every customer message.

- `language` (nb, da, sv): a conversation without a language takes the detector's verdict
  if clear, else the caller's hint, else the best guess; one with a language keeps it
  unless the message is clearly in another one and long enough to tell (a reply like
  "ordre 10483921" is not a switch to Danish, nor is an e-mail address like
  "ikke.meg@example.com": the words of an address are names, not the customer's language);
- `welcomed`: false until the bot has said something, so that the first reply greets;
- `order_number`: also from a bare number that answers "which order?" or keeps a
  promise ("write your order number here").

PrinciplesPolicy returns these as events with its first prediction after a customer
message; doing it inside Rasa avoids an action-server round trip on every message.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.shared.core.events import BotUttered, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from bot.components.language_detector import DETECTION_KEY, LANGUAGES, WORD
from core import vocabulary as v
from core.patterns import EMAIL, find_bare_order_number

LANGUAGE_SLOT = v.SLOT_LANGUAGE
WELCOMED_SLOT = v.SLOT_WELCOMED
ORDER_SLOT = v.SLOT_ORDER_NUMBER
ORDER_QUESTION = v.UTTER_ASK_ORDER_NUMBER
AWAITING_SLOT = v.SLOT_AWAITING
MIN_SWITCH_WORDS = 3


def choose_language(
    current: Optional[Text], detection: Optional[Dict[Text, Any]],
    min_switch_words: int = MIN_SWITCH_WORDS,
) -> Optional[Text]:
    """The conversation's language after a message with this detection verdict."""
    detected = (detection or {}).get("language")
    if detected not in LANGUAGES:
        return current
    if current not in LANGUAGES:  # first message: a clear verdict, else the caller's hint
        hint = detection.get("hint")
        return detected if detection.get("clear") or hint not in LANGUAGES else hint
    switch = detection.get("clear") and detection.get("words", 0) >= min_switch_words
    return detected if switch else current


def without_addresses(detection: Optional[Dict[Text, Any]], text: Text) -> Optional[Dict[Text, Any]]:
    """The verdict with only the words outside e-mail addresses counted towards a switch."""
    if not detection or not EMAIL.search(text):
        return detection
    return {**detection, "words": len(WORD.findall(EMAIL.sub(" ", text)))}


def last_bot_response(tracker: DialogueStateTracker) -> Optional[Text]:
    """The name of the bot's latest response before this message."""
    for event in reversed(tracker.events):
        if isinstance(event, BotUttered):
            return (event.metadata or {}).get("utter_action")
    return None


def turn_slot_events(tracker: DialogueStateTracker) -> List[SlotSet]:
    """SlotSet events for the slots that change with the latest customer message."""
    latest = tracker.latest_message
    parse_data = latest.parse_data if latest else {}
    events: List[SlotSet] = []
    current = tracker.get_slot(LANGUAGE_SLOT)
    text = (latest.text if latest else "") or ""
    chosen = choose_language(current, without_addresses(parse_data.get(DETECTION_KEY), text))
    if chosen != current:
        events.append(SlotSet(LANGUAGE_SLOT, chosen))
    welcomed = any(isinstance(event, BotUttered) for event in tracker.events)
    if welcomed != bool(tracker.get_slot(WELCOMED_SLOT)):
        events.append(SlotSet(WELCOMED_SLOT, welcomed))
    waiting = last_bot_response(tracker) == ORDER_QUESTION or tracker.get_slot(AWAITING_SLOT)
    if not tracker.get_slot(ORDER_SLOT) and waiting:
        number = find_bare_order_number((latest.text if latest else "") or "")
        if number:
            events.append(SlotSet(ORDER_SLOT, number))
    return events
