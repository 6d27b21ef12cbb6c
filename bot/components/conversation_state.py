"""What the conversation already holds, and what the bot does with the next message.

PrinciplesPolicy asks `plan_turn` once per customer message. The answer is a plan: the
bot's actions for this turn in order, the hand-off reason if it hands over, and the
conversation slots that change (topic, the promise it waits on). Kept apart from the
policy, and free of Rasa's tracker, so that each rule of the conversation is one small
function that tests call with plain values:

- an order is looked up, cancelled or changed by the bot itself (`action_order`): "where
  is my parcel?", "cancel my order" and "change the address" start an order task, and the
  messages that answer its questions (the order number, the e-mail or postcode, yes or no,
  the new address) continue it; a clearly different question leaves it;
- what the customer already wrote is not asked again: an order number, e-mail or postcode
  given earlier or in the same message is used as it is;
- a promise is kept: after a complaint's "which order is it?", the message that gives the
  number completes the promise with a hand-off;
- a short follow-up is read in the topic's context ("and what does it cost?");
- several questions in one message are each answered, in the order asked;
- "no, that's not what I meant" gets the next likeliest topics, never the same answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, List, Optional, Sequence, Text

from core import vocabulary as v
from core.followups import aspect_key, continues, follow_up_aspect, is_short
from core.patterns import POSTCODE_ALONE, find_bare_order_number

ANSWER_PREFIX = "utter_"
# an order number written with a space or dash in the middle ("4091 8273", "NH-4091-8273")
SPACED_ORDER_NUMBER = re.compile(r"(?i)(?<![\w-])(?:NH[- ]?)?(\d{4}[ -]\d{4})(?![\w-])")
# slots that end an order task (the verified order's facts stay for a hand-off)
LEAVE_ORDER_TASK: Dict[Text, Any] = {v.SLOT_ORDER_TASK: None, v.SLOT_ORDER_STEP: None}
# intents that have a path of their own and so leave an order task at any step
OWN_PATH_INTENTS = frozenset({
    v.REQUEST_HUMAN_INTENT, v.COMPLAINT_INTENT, v.OUT_OF_SCOPE_INTENT, v.NOT_WHAT_I_MEANT_INTENT,
    v.NONE_OF_THESE_INTENT, *v.SMALL_TALK_INTENTS,
})
# topics that a new address or pickup point is easily mistaken for: never a way out of
# the question for it
DELIVERY_PLACE_INTENTS = frozenset({"change_order", "pickup_point"})


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
    # the order task under way (v.OrderTask) and what the bot asked for it (v.OrderStep)
    order_task: Optional[Text] = None
    order_step: Optional[Text] = None


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


def _digits(text: Text) -> Text:
    return re.sub(r"\D", "", text)


def supplied_order_number(turn: TurnInput) -> Optional[Text]:
    """The order number this message gives: as a detail, or bare ("12345678", "it's 1234567",
    "4091 8273")."""
    number = turn.given.get(v.SLOT_ORDER_NUMBER) or find_bare_order_number(turn.text)
    if number:
        return number
    spaced = SPACED_ORDER_NUMBER.search(turn.text)
    return _digits(spaced.group(1)) if spaced else None


def asked_for_contact(turn: TurnInput) -> bool:
    """Whether the bot's last question was for the e-mail or postcode on the order."""
    return bool(turn.order_task) and turn.order_step == v.OrderStep.CONTACT.value


def supplied_postcode(turn: TurnInput) -> Optional[Text]:
    """The postcode this message gives: as a detail ("postnr. 0555", "114 55"), or, when the
    bot asked for the e-mail or postcode, a bare four- or five-digit number ("0555", "11455")."""
    if turn.given.get(v.SLOT_POSTCODE):
        return turn.given[v.SLOT_POSTCODE]
    if not asked_for_contact(turn):
        return None
    alone = POSTCODE_ALONE.search(turn.text)
    return alone.group(1) if alone else None


def order_details(turn: TurnInput) -> Dict[Text, Any]:
    """Slots for the order number, e-mail and postcode this message gives to an order task.

    Read the way the bot's question invites: asked for the e-mail or postcode, four or five
    digits are a postcode, not an order number. A number the extractor read as a phone
    number too ("4091 8273") is not kept as one.
    """
    slots: Dict[Text, Any] = {}
    postcode = supplied_postcode(turn)
    if postcode:
        slots[v.SLOT_POSTCODE] = postcode
    number = supplied_order_number(turn)
    if number and not (postcode and _digits(number) == _digits(postcode)):
        slots[v.SLOT_ORDER_NUMBER] = number
        phone = turn.given.get(v.SLOT_PHONE)
        if phone and _digits(phone) == _digits(number):
            slots[v.SLOT_PHONE] = None
    if turn.given.get(v.SLOT_EMAIL):
        slots[v.SLOT_EMAIL] = turn.given[v.SLOT_EMAIL]
    return slots


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
    """Each question answered in the order asked, with one "anything else?" at the end.

    A question about an order (where is it, cancel, change) starts the order task. With its
    order number known, the order action takes it up after the other answers (its question
    takes the place of "anything else?"); without, its answer asks for the number.
    """
    topics = questions_in(turn, rules)
    if not topics:
        return None
    plan = Plan(slots={v.SLOT_TOPIC: topics[-1], v.SLOT_AWAITING: None})
    order_topic = next((topic for topic in topics if topic in v.TASK_BY_INTENT), None)
    if order_topic is not None:
        plan.slots.update(_start_slots(turn, order_topic))
        if _number_known(turn, plan.slots):
            plan.actions = [ANSWER_PREFIX + topic for topic in topics if topic not in v.TASK_BY_INTENT]
            plan.actions.append(v.ACTION_ORDER)
            return plan
    plan.actions = [ANSWER_PREFIX + topic for topic in topics] + [v.UTTER_ANYTHING_ELSE]
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
    if turn.intent in v.SMALL_TALK_INTENTS and not turn.ambiguous:
        return None  # "ha det bra", "tack, det var allt": the "det" leans on nothing

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


def _start_slots(turn: TurnInput, intent: Text) -> Dict[Text, Any]:
    """Slots that start the order task an intent asks for, with the details already given.

    Without an order number the topic's answer asks for it (step order_number); with one
    the order action decides its first step."""
    slots: Dict[Text, Any] = {v.SLOT_ORDER_TASK: v.TASK_BY_INTENT[intent].value,
                              v.SLOT_TOPIC: intent, v.SLOT_AWAITING: None, **order_details(turn)}
    slots[v.SLOT_ORDER_STEP] = None if _number_known(turn, slots) else v.OrderStep.ORDER_NUMBER.value
    return slots


def _number_known(turn: TurnInput, slots: Dict[Text, Any]) -> bool:
    return bool(slots.get(v.SLOT_ORDER_NUMBER) or turn.known.get(v.SLOT_ORDER_NUMBER))


def start_order_task(turn: TurnInput) -> Optional[Plan]:
    """"Where is my parcel?", "cancel my order", "change the address": the bot looks the order
    up itself, after verifying the customer. With the order number already given (in this
    message or earlier) the order action starts at once; without, the rules answer the
    topic, and that answer asks for the number, which then continues the task. An unsure
    message is clarified first."""
    if turn.intent not in v.TASK_BY_INTENT or turn.ambiguous:
        return None
    slots = _start_slots(turn, turn.intent or "")
    return Plan([v.ACTION_ORDER] if _number_known(turn, slots) else [], slots=slots)


def leaves_order_task(turn: TurnInput, rules: TurnRules) -> bool:
    """A message with a path of its own (a person, a complaint, small talk, ...) or a
    question the NLU is sure is about another topic."""
    if turn.intent in OWN_PATH_INTENTS:
        return True
    return (turn.intent in rules.answerable and not turn.ambiguous
            and turn.confidence >= rules.new_topic_confidence)


def _answers_delivery_question(turn: TurnInput, rules: TurnRules) -> bool:
    """Asked for a new address or pickup point, nearly anything is one: only a person, a
    complaint, or a question ("...?") the NLU is sure is about another topic is not."""
    if turn.intent in (v.REQUEST_HUMAN_INTENT, v.COMPLAINT_INTENT, v.NOT_WHAT_I_MEANT_INTENT):
        return False
    other_question = ("?" in turn.text and turn.intent not in DELIVERY_PLACE_INTENTS
                      and leaves_order_task(turn, rules))
    return not other_question


def continue_order_task(turn: TurnInput, rules: TurnRules) -> Optional[Plan]:
    """The next step of the order task under way, or a plan that leaves it.

    A plan without actions leaves the task (its slots cleared) and lets the other rules
    answer the message. The details the question asked for continue the task whatever the
    NLU calls the message ("40918273" is rarely a confident intent); an unsure message
    has the question asked again rather than the task dropped on a guess.
    """
    task, step = turn.order_task, turn.order_step
    if not task:
        return None
    leave = Plan(slots=dict(LEAVE_ORDER_TASK))
    if step == v.OrderStep.PERSON.value:
        # a yes to the person offered (a delayed order, or one too late to cancel or change)
        yes = turn.intent == v.REQUEST_HUMAN_INTENT or (
            turn.intent == v.AFFIRM_INTENT and not turn.ambiguous)
        if yes:
            reason = next((reason for kind, reason in v.REASON_BY_TASK.items() if kind.value == task),
                          v.HandoffReason.REQUEST_HUMAN)
            return Plan([v.ACTION_HANDOFF], reason.value, dict(LEAVE_ORDER_TASK))
        if turn.intent == v.DENY_INTENT:
            return Plan([v.UTTER_ANYTHING_ELSE], slots=dict(LEAVE_ORDER_TASK))
        return start_order_task(turn) or leave
    if step == v.OrderStep.NEW_DELIVERY.value:
        return Plan([v.ACTION_ORDER]) if _answers_delivery_question(turn, rules) else leave
    if step == v.OrderStep.CONFIRM.value:
        if turn.intent in v.YES_NO_INTENTS:
            return Plan([v.ACTION_ORDER])
    else:
        details = order_details(turn)
        if details:
            return Plan([v.ACTION_ORDER], slots=details)
        if turn.intent in v.YES_NO_INTENTS:
            return leave  # an answer to "anything else?", not the number or e-mail asked for
    if turn.intent in v.TASK_BY_INTENT and not turn.ambiguous:
        return start_order_task(turn)
    if leaves_order_task(turn, rules):
        return leave
    return Plan([v.ACTION_ORDER])


def remember_topic(turn: TurnInput, rules: TurnRules) -> Dict[Text, Any]:
    """Slots for a message the rules answer: its topic."""
    if turn.ambiguous or turn.intent not in rules.answerable:
        return {v.SLOT_AWAITING: None} if turn.awaiting else {}
    return {v.SLOT_TOPIC: turn.intent, v.SLOT_AWAITING: None}


def plan_turn(turn: TurnInput, rules: TurnRules) -> Plan:
    """What the bot does with the message, as far as holding the conversation goes.

    The order matters: an order task under way continues first (or is left, and the
    message answered as if there were none); a kept promise beats everything else;
    several questions beat one; a follow-up is only read as one when the message is not
    clearly about something else. An empty plan leaves the answer to Rasa's rules and the
    service principles.
    """
    order_plan = continue_order_task(turn, rules)
    if order_plan and order_plan.actions:
        return order_plan
    left = order_plan.slots if order_plan else {}
    plan = _plan_without_order_task(turn, rules)
    plan.slots = {**left, **plan.slots}
    return plan


def _plan_without_order_task(turn: TurnInput, rules: TurnRules) -> Plan:
    for decide in (keep_promise, not_what_was_meant, order_number_alone):
        plan = decide(turn)
        if plan:
            return plan
    for decide_with_rules in (answer_several, follow_up):
        plan = decide_with_rules(turn, rules)
        if plan:
            return plan
    plan = start_order_task(turn)
    if plan:
        return plan
    return Plan(slots=remember_topic(turn, rules))
