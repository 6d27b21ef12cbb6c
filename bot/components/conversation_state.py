"""What the conversation already holds, and what the bot does with the next message.

PrinciplesPolicy asks `plan_turn` once per customer message. The answer is a plan: the
bot's actions for this turn in order, the hand-off reason if it hands over, and the
conversation slots that change (topic, the promise it waits on). Kept apart from the
policy, and free of Rasa's tracker, so that each rule of the conversation is one small
function that tests call with plain values:

- a promise is kept: after "write your order number here", the message that gives it
  completes the promise with a hand-off that says what it is about;
- what the customer already wrote is not asked again: a late parcel, a cancellation or a
  change whose order number is known is handed over at once;
- a short follow-up is read in the topic's context ("and what does it cost?");
- several questions in one message are each answered, in the order asked;
- "no, that's not what I meant" gets the next likeliest topics, never the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, List, Optional, Sequence, Text

from core import vocabulary as v
from core.followups import aspect_key, continues, follow_up_aspect, is_short
from core.patterns import find_bare_order_number

ANSWER_PREFIX = "utter_"


@dataclass(frozen=True)
class TurnInput:
    """The latest customer message and what the conversation held before it."""

    text: Text
    intent: Optional[Text]
    confidence: float
    language: Text
    ambiguous: bool
    # details this very message gave, by slot name (order_number, email, ...)
    given: Dict[Text, Any] = field(default_factory=dict)
    # the conversation's detail slots, this message's details included
    known: Dict[Text, Any] = field(default_factory=dict)
    topic: Optional[Text] = None
    awaiting: Optional[Text] = None
    # questions found in the message, each {"text", "intent", "confidence"} (NLU)
    questions: Sequence[Dict[Text, Any]] = ()
    # the NLU's likeliest intents, each {"name", "confidence"}
    ranking: Sequence[Dict[Text, Any]] = ()


@dataclass(frozen=True)
class TurnRules:
    """The thresholds and topics the plan depends on (PrinciplesPolicy's config)."""

    answerable: FrozenSet[Text]
    min_question_confidence: float = 0.6
    # a message this sure of another topic is not a follow-up of the current one
    new_topic_confidence: float = 0.8
    max_questions: int = 3
    # a short "and ...?" whose topic is among the NLU's first this many is about that topic
    context_ranks: int = 3


@dataclass
class Plan:
    """The bot's actions this turn (empty: Rasa's rules decide) and the slots that change."""

    actions: List[Text] = field(default_factory=list)
    reason: Optional[Text] = None
    slots: Dict[Text, Any] = field(default_factory=dict)


def _promise(intent: Optional[Text]) -> Optional[Text]:
    reason = v.PROMISE_BY_INTENT.get(intent or "")
    return reason.value if reason else None


def supplied_order_number(turn: TurnInput) -> Optional[Text]:
    """The order number this message gives: as a detail, or bare ("12345678", "it's 1234567")."""
    return turn.given.get(v.SLOT_ORDER_NUMBER) or find_bare_order_number(turn.text)


def keep_promise(turn: TurnInput) -> Optional[Plan]:
    """The customer answers the bot's "write your order number here"."""
    if not turn.awaiting:
        return None
    number = supplied_order_number(turn)
    if not number:
        return None
    slots: Dict[Text, Any] = {v.SLOT_AWAITING: None, v.SLOT_ORDER_NUMBER: number}
    if turn.given.get(v.SLOT_PHONE) == number:  # eight digits read as a phone number too
        slots[v.SLOT_PHONE] = None
    return Plan([v.ACTION_HANDOFF], turn.awaiting, slots)


def questions_in(turn: TurnInput, rules: TurnRules) -> List[Text]:
    """Distinct answerable topics asked in one message, in order (two or more, else none).

    The whole message must agree: either it is unsure, or its own topic is one of them.
    """
    topics: List[Text] = []
    for question in turn.questions:
        intent = question.get("intent")
        # a statement ("I bought a jacket in November.") is the story around a question,
        # not a question of its own: long messages are answered once
        if (question.get("asks", True) and intent in rules.answerable and intent not in topics
                and question.get("confidence", 0.0) >= rules.min_question_confidence):
            topics.append(intent)
    if len(topics) < 2:
        return []
    if turn.intent not in topics and turn.confidence >= rules.new_topic_confidence:
        return []
    return topics[: rules.max_questions]


def answer_several(turn: TurnInput, rules: TurnRules) -> Optional[Plan]:
    """Each question answered in the order asked, with one "anything else?" at the end."""
    topics = questions_in(turn, rules)
    if not topics:
        return None
    plan = Plan(slots={v.SLOT_TOPIC: topics[-1], v.SLOT_AWAITING: None})
    handoff_reason = None
    for topic in topics:
        promise = _promise(topic)
        if promise and turn.known.get(v.SLOT_ORDER_NUMBER):
            handoff_reason = handoff_reason or promise
            continue
        plan.actions.append(ANSWER_PREFIX + topic)
        if promise:
            plan.slots[v.SLOT_AWAITING] = promise
    if handoff_reason:
        plan.actions.append(v.ACTION_HANDOFF)
        plan.reason = handoff_reason
        plan.slots[v.SLOT_AWAITING] = None
    else:
        plan.actions.append(v.UTTER_ANYTHING_ELSE)
    return plan


def follow_up(turn: TurnInput, rules: TurnRules) -> Optional[Plan]:
    """A short follow-up about an aspect of the topic just answered."""
    aspect = follow_up_aspect(turn.text, turn.language, turn.topic)
    if turn.topic is None:
        return None
    if aspect is None:
        return same_topic(turn, rules)
    sure_of_another_topic = (
        turn.intent in rules.answerable and turn.intent != turn.topic
        and turn.confidence >= rules.new_topic_confidence and not turn.ambiguous
    )
    if sure_of_another_topic and not continues(turn.text):
        return None
    return Plan([ANSWER_PREFIX + aspect_key(turn.topic, aspect), v.UTTER_ANYTHING_ELSE],
                slots={v.SLOT_TOPIC: turn.topic})


def same_topic(turn: TurnInput, rules: TurnRules) -> Optional[Plan]:
    """A short "and ...?" with no aspect answer, which the NLU also finds near the topic:
    the topic's own answer, read in context rather than guessed at with a question."""
    topic = turn.topic
    if topic is None or not is_short(turn.text) or not continues(turn.text):
        return None
    near = [item.get("name") for item in list(turn.ranking)[: rules.context_ranks]]
    if topic not in near or turn.intent == topic and not turn.ambiguous:
        return None  # far from the topic, or the rules answer it anyway
    return Plan([ANSWER_PREFIX + topic, v.UTTER_ANYTHING_ELSE], slots={v.SLOT_TOPIC: topic})


def not_what_was_meant(turn: TurnInput) -> Optional[Plan]:
    """After an answer, "that's not what I meant": other topics, never the same answer."""
    if turn.intent != v.NOT_WHAT_I_MEANT_INTENT:
        return None
    return Plan([v.ACTION_CLARIFY], slots={v.SLOT_TOPIC: None, v.SLOT_AWAITING: None})


def order_number_alone(turn: TurnInput) -> Optional[Plan]:
    """An order number nobody asked for: ask what it is about (track, cancel, change)."""
    if turn.intent != v.INFORM_ORDER_NUMBER_INTENT or turn.awaiting:
        return None
    return Plan([v.ACTION_CLARIFY], slots={v.SLOT_AWAITING: None})


def promise_known_detail(turn: TurnInput) -> Optional[Plan]:
    """A late parcel, cancellation or change whose order number is already known."""
    promise = _promise(turn.intent)
    if not promise or turn.ambiguous or turn.intent == v.COMPLAINT_INTENT:
        return None
    if turn.known.get(v.SLOT_ORDER_NUMBER):
        return Plan([v.ACTION_HANDOFF], promise, {v.SLOT_AWAITING: None, v.SLOT_TOPIC: turn.intent})
    return None


def remember_topic(turn: TurnInput, rules: TurnRules) -> Dict[Text, Any]:
    """Slots for a message the rules answer: its topic, and the promise its answer makes."""
    if turn.ambiguous or turn.intent not in rules.answerable:
        return {v.SLOT_AWAITING: None} if turn.awaiting else {}
    slots: Dict[Text, Any] = {v.SLOT_TOPIC: turn.intent, v.SLOT_AWAITING: None}
    promise = _promise(turn.intent)
    if promise:
        slots[v.SLOT_AWAITING] = promise
    return slots


def plan_turn(turn: TurnInput, rules: TurnRules) -> Plan:
    """What the bot does with the message, as far as holding the conversation goes.

    The order matters: a kept promise beats everything; several questions beat one; a
    follow-up is only read as one when the message is not clearly about something else.
    An empty plan leaves the answer to Rasa's rules and the service principles.
    """
    for decide in (keep_promise, not_what_was_meant, order_number_alone):
        plan = decide(turn)
        if plan:
            return plan
    for decide_with_rules in (answer_several, follow_up):
        plan = decide_with_rules(turn, rules)
        if plan:
            return plan
    plan = promise_known_detail(turn)
    if plan:
        return plan
    return Plan(slots=remember_topic(turn, rules))
