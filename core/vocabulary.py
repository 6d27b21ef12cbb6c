"""One vocabulary for every part: the names of actions, slots and intents that cross the
border between the policy, the action server and the service, and the enums of what a
hand-off is about, how urgent it is and where it stands."""

from __future__ import annotations

from enum import Enum
from typing import Optional


class HandoffReason(str, Enum):
    """Why the bot hands a conversation to a person."""

    REQUEST_HUMAN = "request_human"
    COMPLAINT = "complaint"
    OUT_OF_SCOPE = "out_of_scope"
    CLARIFICATION_FAILED = "clarification_failed"
    ABUSE = "abuse"
    UNRESOLVED = "unresolved"


class Priority(str, Enum):
    """How soon an escalation should be taken; the queue serves urgent first."""

    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"

    @property
    def rank(self) -> int:
        """0 for the most urgent: the queue's sort key."""
        return list(Priority).index(self)


class EscalationStatus(str, Enum):
    """Where an escalation stands (transitions: api/state.py)."""

    QUEUED = "queued"
    WITH_AGENT = "with_agent"
    CLOSED = "closed"


class ConversationStatus(str, Enum):
    """Who is in charge of a conversation (transitions: api/state.py)."""

    BOT = "bot"
    QUEUED = "queued"
    WITH_AGENT = "with_agent"
    CLOSED = "closed"


class OutboxStatus(str, Enum):
    """Delivery of one helpdesk webhook event (transitions: api/state.py)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


# --- intents ---
SMALL_TALK_INTENTS = frozenset({"greet", "goodbye", "thank", "bot_challenge"})
YES_NO_INTENTS = ("affirm", "deny")
ABUSE_INTENT = "insult"
COMPLAINT_INTENT = "complain"
REQUEST_HUMAN_INTENT = "request_human"
OUT_OF_SCOPE_INTENT = "out_of_scope"
BROAD_INTENT = "unclear_problem"
NONE_OF_THESE_INTENT = "something_else"
# intents that are not a shop topic: what the customer's need is about lies elsewhere
NON_TOPIC_INTENTS = frozenset({
    *SMALL_TALK_INTENTS, *YES_NO_INTENTS, ABUSE_INTENT, REQUEST_HUMAN_INTENT,
    OUT_OF_SCOPE_INTENT, BROAD_INTENT, NONE_OF_THESE_INTENT, "nlu_fallback",
})
REASON_BY_INTENT = {
    REQUEST_HUMAN_INTENT: HandoffReason.REQUEST_HUMAN,
    COMPLAINT_INTENT: HandoffReason.COMPLAINT,
    OUT_OF_SCOPE_INTENT: HandoffReason.OUT_OF_SCOPE,
    ABUSE_INTENT: HandoffReason.ABUSE,
}

# --- actions and responses ---
ACTION_CLARIFY = "action_clarify"
ACTION_HANDOFF = "action_handoff"
UTTER_ASK_REPHRASE = "utter_ask_rephrase"
UTTER_ASK_ORDER_NUMBER = "utter_ask_order_number"
UTTER_COMPLAIN = "utter_complain"
UTTER_ANYTHING_ELSE = "utter_anything_else"
UTTER_HANDOFF_QUEUE = "utter_handoff_queue"
UTTER_HANDOFF_CLOSED = "utter_handoff_closed"
UTTER_HANDOFF_NO_NUMBERS = "utter_handoff_no_numbers"
UTTER_HANDOFF_NO_NUMBERS_CLOSED = "utter_handoff_no_numbers_closed"

# --- slots ---
SLOT_LANGUAGE = "language"
SLOT_WELCOMED = "welcomed"
SLOT_HANDOFF_REASON = "handoff_reason"
SLOT_HANDOFF_REFERENCE = "handoff_reference"
SLOT_HANDED_OFF = "handed_off"
SLOT_RETURNED_FROM_AGENT = "returned_from_agent"
SLOT_ORDER_NUMBER = "order_number"
SLOT_EMAIL = "email"
SLOT_PHONE = "phone"
DETAIL_SLOTS = (SLOT_ORDER_NUMBER, SLOT_EMAIL, SLOT_PHONE)


def priority_for(reason: str, threatened: bool) -> Priority:
    """A threat is urgent; a complaint or abuse high; anything else normal."""
    if threatened:
        return Priority.URGENT
    if reason in (HandoffReason.COMPLAINT, HandoffReason.ABUSE):
        return Priority.HIGH
    return Priority.NORMAL


def reason_for_intent(intent: Optional[str]) -> HandoffReason:
    """The hand-off reason a customer's intent implies, when the policy named none."""
    return REASON_BY_INTENT.get(intent or "", HandoffReason.UNRESOLVED)
