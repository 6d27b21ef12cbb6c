"""The principles scorecard of a conversation, computed from its tracker events.

Per conversation: was the customer welcomed, was every ambiguous message clarified
rather than guessed, did every answer get a "did that help / anything else" check,
was a hand-off owned (escalation created with summary and transcript, customer given
a reference) and did it set expectations (queue place and wait, or next opening), and
was the conversation resolved without a hand-off. Events are Rasa's event dicts; the
command line over Rasa's tracker store is `python -m bot.scorecard`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any, Dict, Iterable, List, Mapping, Optional, Text, Tuple

from core import vocabulary as v
from core.ambiguity import ambiguous_under
from core.content import CONTENT_DIR, load_content, read_texts
from core.patterns import POSTCODE_ALONE, find_bare_order_number, find_details
from core.principles import principles_config

CLARIFYING_ACTIONS = {v.ACTION_CLARIFY, v.UTTER_ASK_REPHRASE}
HANDOFF_ACTION = v.ACTION_HANDOFF
# what the bot says only with the escalation service's receipt in hand
RECEIPT_RESPONSES = {
    v.UTTER_HANDOFF_QUEUE, v.UTTER_HANDOFF_QUEUE_NO_ESTIMATE, v.UTTER_HANDOFF_QUEUE_NOBODY,
    v.UTTER_HANDOFF_CLOSED, v.UTTER_HANDOFF_TAKEN,
}
# a sentence that tells what happens next: a place in the queue or a time ("nummer 3",
# "kl. 08:00", "5–10 minutter"); a reference is checked against the one given
PLACE_OR_TIME = re.compile(r"(?i)\b(?:nummer|number)\s+\d+|\b\d{1,2}[:.]\d{2}\b|\b\d+\s*[–-]\s*\d+\s+minut")
# after an answer the bot checks what the customer needs next: "anything else?", or the
# offer to pass on an erasure request
CHECK_RESPONSES = frozenset({v.UTTER_ANYTHING_ELSE, v.UTTER_OFFER_ERASURE})
# the principles a conversation is judged on (each True, False or None: did not apply)
PRINCIPLE_FIELDS = ("welcomed", "clarified_when_ambiguous", "checked_after_answer",
                    "handoff_owned_with_summary", "expectations_set")
# what an aggregate reports: the principles and whether the bot resolved it alone
AGGREGATE_FIELDS = (*PRINCIPLE_FIELDS, "resolved_without_handoff")


@lru_cache(maxsize=1)
def answer_responses() -> frozenset:
    """The responses that answer a frequent question (content/faq.yml, not small talk)."""
    faq = read_texts(CONTENT_DIR / "faq.yml")
    return frozenset(f"utter_{key}" for key in faq if key not in v.SMALL_TALK_INTENTS)


@dataclass(frozen=True)
class Scorecard:
    """One conversation against the principles; None where a principle did not apply."""

    conversation_id: Text
    customer_messages: int
    welcomed: Optional[bool]
    clarified_when_ambiguous: Optional[bool]
    checked_after_answer: Optional[bool]
    handed_off: bool
    handoff_owned_with_summary: Optional[bool]
    expectations_set: Optional[bool]
    resolved_without_handoff: Optional[bool]

    @property
    def score(self) -> Optional[float]:
        """Share of the principles that applied and were met."""
        return score_of(asdict(self))

    def as_dict(self) -> Dict[Text, Any]:
        """Every field and the score, as JSON-ready values."""
        return {**asdict(self), "score": self.score}


def _welcome_texts() -> List[Text]:
    texts = load_content()
    return [*texts["welcome_prefix"].values(), *texts["greet"].values()]


def opens_with_welcome(text: Text) -> bool:
    """Whether a reply starts with the welcome (or is the greeting), in any language."""
    return any(text.startswith(welcome) for welcome in _welcome_texts())


def _bot_actions_after(events: List[Dict[Text, Any]], start: int) -> List[Text]:
    """Names of the bot's actions and responses after event `start`, up to the next user message."""
    names: List[Text] = []
    for event in events[start + 1:]:
        if event.get("event") == "user":
            break
        if event.get("event") == "action" and event.get("name") != "action_listen":
            names.append(event["name"])
        elif event.get("event") == "bot":
            utter = (event.get("metadata") or {}).get("utter_action")
            if utter:
                names.append(utter)
    return names


def _previous_bot_action(events: List[Dict[Text, Any]], index: int) -> Optional[Text]:
    for event in reversed(events[:index]):
        if event.get("event") == "bot" and (event.get("metadata") or {}).get("utter_action"):
            return event["metadata"]["utter_action"]
        if event.get("event") == "action" and event.get("name") not in ("action_listen", None):
            return event["name"]
    return None


# the bot's questions for an order's details: the order number, then the e-mail or postcode
DETAIL_QUESTIONS = frozenset({v.ACTION_ORDER, v.UTTER_ASK_ORDER_NUMBER})
ORDER_DETAIL_ENTITIES = frozenset({"order_number", "email", "postcode"})


def answers_detail_question(text: Text, previous_bot_action: Optional[Text]) -> bool:
    """Whether a message gives the order detail the bot just asked for. The policy goes on
    with it whatever the NLU calls it (a bare number or e-mail is rarely a confident
    intent), so it is not an ambiguous message that needed a clarifying question."""
    if previous_bot_action not in DETAIL_QUESTIONS:
        return False
    return (any(found.entity in ORDER_DETAIL_ENTITIES for found in find_details(text))
            or find_bare_order_number(text) is not None or bool(POSTCODE_ALONE.search(text)))


def _needed_clarifying(events: List[Dict[Text, Any]], index: int,
                       config: Dict[Text, Any]) -> bool:
    previous = _previous_bot_action(events, index)
    return (ambiguous_under(config, events[index].get("parse_data") or {}, previous)
            and not answers_detail_question(events[index].get("text") or "", previous))


def score_conversation(
    conversation_id: Text, events: List[Dict[Text, Any]],
    config: Optional[Dict[Text, Any]] = None,
) -> Scorecard:
    """The scorecard of one conversation from its events (Rasa's event dicts)."""
    config = config or principles_config()
    user_indexes = [i for i, e in enumerate(events) if e.get("event") == "user"]
    bot_texts = [e.get("text") or "" for e in events if e.get("event") == "bot"]
    welcomed = opens_with_welcome(bot_texts[0]) if bot_texts else None

    ambiguous_turns = [i for i in user_indexes if _needed_clarifying(events, i, config)]
    clarified = None
    if ambiguous_turns:
        clarified = all(
            set(_bot_actions_after(events, i)) & (CLARIFYING_ACTIONS | {HANDOFF_ACTION})
            for i in ambiguous_turns
        )

    answers = answer_responses()
    # "anything else?" checks an answer the bot stands by; a turn that ends with a person
    # taking over (an erasure request, a kept promise) is not asked it
    answer_turns = [names for i in user_indexes
                    if (names := _bot_actions_after(events, i)) and set(names) & answers
                    and HANDOFF_ACTION not in names]
    checked = all(CHECK_RESPONSES & set(names) for names in answer_turns) if answer_turns else None

    handoff_at = [i for i, e in enumerate(events)
                  if e.get("event") == "action" and e.get("name") == HANDOFF_ACTION]
    handed_off = bool(handoff_at)
    owned = expectations = None
    if handed_off:
        owned, expectations = handoff_verdicts(events[handoff_at[-1] + 1:])
    resolved = (not handed_off) if answer_turns or handed_off else None
    return Scorecard(conversation_id, len(user_indexes), welcomed, clarified, checked,
                     handed_off, owned, expectations, resolved)


def handoff_verdicts(after: List[Dict[Text, Any]]) -> Tuple[bool, bool]:
    """(owned, expectations set) from what happened after the hand-off action ran.

    Owned: the escalation service gave a receipt, which is what the bot tells only with
    one in hand. Expectations: a message sent to the customer states a place, a time or
    the reference they were given.
    """
    said = [e for e in after if e.get("event") == "bot"]
    owned = any((e.get("metadata") or {}).get("utter_action") in RECEIPT_RESPONSES for e in said)
    references = [str(e.get("value")) for e in after
                  if e.get("event") == "slot" and e.get("name") == v.SLOT_HANDOFF_REFERENCE
                  and e.get("value")]
    expectations = any(tells_what_happens_next(e.get("text") or "", references) for e in said)
    return owned, expectations


def tells_what_happens_next(text: Text, references: Iterable[Text]) -> bool:
    """Whether a message to the customer states a place, a time or their reference."""
    return bool(PLACE_OR_TIME.search(text)) or any(ref and ref in text for ref in references)


def with_handoff_measured(card: Mapping[Text, Any], owned: bool, expectations: bool) -> Dict[Text, Any]:
    """The card with the hand-off's two principles as they were measured, and its score."""
    measured = {**card, "handed_off": True, "resolved_without_handoff": False,
                "handoff_owned_with_summary": owned, "expectations_set": expectations}
    measured["score"] = score_of(measured)
    return measured


def score_of(card: Mapping[Text, Any]) -> Optional[float]:
    """Share of the principles that applied (not None) and were met."""
    return _share([card[name] for name in PRINCIPLE_FIELDS if card.get(name) is not None])


def aggregate(cards: Iterable[Mapping[Text, Any]]) -> Dict[Text, Any]:
    """Share of conversations meeting each principle (over those where it applied).

    Takes scorecards as mappings (`Scorecard.as_dict()`, or the JSON an escalation keeps),
    so the CLI over the tracker store and the service's aggregate compute it alike.
    """
    cards = list(cards)
    summary: Dict[Text, Any] = {"conversations": len(cards)}
    for name in AGGREGATE_FIELDS:
        applied = [card[name] for card in cards if card.get(name) is not None]
        summary[name] = _share(applied)
    scores = [card["score"] for card in cards if card.get("score") is not None]
    summary["mean_score"] = _share(scores)
    return summary


def _share(values: List[Any]) -> Optional[float]:
    return round(sum(values) / len(values), 3) if values else None
