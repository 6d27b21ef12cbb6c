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
    LATE_DELIVERY = "late_delivery"
    CANCELLATION = "cancellation"
    ORDER_CHANGE = "order_change"
    OUT_OF_SCOPE = "out_of_scope"
    CLARIFICATION_FAILED = "clarification_failed"
    ABUSE = "abuse"
    # the customer asked for their data to be deleted: an agent confirms, then the
    # conversation is erased everywhere (api/services/erasure.py)
    ERASURE_REQUEST = "erasure_request"
    # order self-service (actions/orders/action.py): the customer could not be verified
    # against the order (three failed attempts, or too many lookups in one conversation)
    VERIFICATION_FAILED = "verification_failed"
    # the shop's order system did not answer, so the bot could not check or change the order
    ORDER_SYSTEM_DOWN = "order_system_down"
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
GREET_INTENT, GOODBYE_INTENT, THANK_INTENT, BOT_CHALLENGE_INTENT = (
    "greet", "goodbye", "thank", "bot_challenge")
SMALL_TALK_INTENTS = frozenset({GREET_INTENT, GOODBYE_INTENT, THANK_INTENT, BOT_CHALLENGE_INTENT})
# small talk that is answered as it is, never with a clarifying question
PLAIN_SMALL_TALK = (GREET_INTENT, GOODBYE_INTENT, THANK_INTENT)
YES_NO_INTENTS = ("affirm", "deny")
ABUSE_INTENT = "insult"
COMPLAINT_INTENT = "complain"
REQUEST_HUMAN_INTENT = "request_human"
OUT_OF_SCOPE_INTENT = "out_of_scope"
BROAD_INTENT = "unclear_problem"
NONE_OF_THESE_INTENT = "something_else"
NOT_WHAT_I_MEANT_INTENT = "not_what_i_meant"
INFORM_ORDER_NUMBER_INTENT = "inform_order_number"
AFFIRM_INTENT, DENY_INTENT = YES_NO_INTENTS
# intents that are not a shop topic: what the customer's need is about lies elsewhere
NON_TOPIC_INTENTS = frozenset({
    *SMALL_TALK_INTENTS, *YES_NO_INTENTS, ABUSE_INTENT, REQUEST_HUMAN_INTENT,
    OUT_OF_SCOPE_INTENT, BROAD_INTENT, NONE_OF_THESE_INTENT, NOT_WHAT_I_MEANT_INTENT,
    INFORM_ORDER_NUMBER_INTENT, "nlu_fallback",
})
# topics the bot solves itself from the shop's order system, once the customer is verified
# (their answers ask for the order number, which starts the order task: TASK_BY_INTENT);
# a complaint is the one answer that promises a person once the number is given
ORDER_TOPICS = ("track_order", "cancel_order", "change_order")
REASON_BY_INTENT = {
    REQUEST_HUMAN_INTENT: HandoffReason.REQUEST_HUMAN,
    # the bot hands over on a yes only to its own offer of a person
    AFFIRM_INTENT: HandoffReason.REQUEST_HUMAN,
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
# asked after the answer on deleting personal data: yes hands over an erasure request
UTTER_OFFER_ERASURE = "utter_offer_erasure"
# the question the bot asked, when a yes to it hands over for a reason of its own
REASON_BY_OFFER = {UTTER_OFFER_ERASURE: HandoffReason.ERASURE_REQUEST}
UTTER_HANDOFF_QUEUE = "utter_handoff_queue"
UTTER_HANDOFF_CLOSED = "utter_handoff_closed"
UTTER_HANDOFF_NO_NUMBERS = "utter_handoff_no_numbers"
UTTER_HANDOFF_NO_NUMBERS_CLOSED = "utter_handoff_no_numbers_closed"
UTTER_HANDOFF_QUEUE_NO_ESTIMATE = "utter_handoff_queue_no_estimate"
UTTER_HANDOFF_QUEUE_NOBODY = "utter_handoff_queue_nobody"
UTTER_HANDOFF_TAKEN = "utter_handoff_taken"
ACTION_LISTEN = "action_listen"
# order self-service: one step of looking up, verifying, cancelling or changing an order
ACTION_ORDER = "action_order"

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
SLOT_POSTCODE = "postcode"
SLOT_PRODUCT = "product"
SLOT_SIZE = "size"
# what the customer told us, kept for the whole conversation (the agent sees them too)
DETAIL_SLOTS = (SLOT_ORDER_NUMBER, SLOT_EMAIL, SLOT_PHONE, SLOT_POSTCODE, SLOT_PRODUCT, SLOT_SIZE)
# the topic just answered, which short follow-ups are about
SLOT_TOPIC = "topic"
# the promise the bot made and waits on: the hand-off reason once the order number comes
SLOT_AWAITING = "awaiting_order_for"
# what the bot does this turn, in order (PrinciplesPolicy plans, then follows it)
SLOT_PLAN = "turn_plan"
# order self-service: what the customer wants done with an order (OrderTask), what the bot
# asked last and waits for (OrderStep), failed verifications and lookups so far, and the
# facts of the order the customer was verified against (the only facts a hand-off carries)
SLOT_ORDER_TASK = "order_task"
SLOT_ORDER_STEP = "order_step"
SLOT_VERIFY_ATTEMPTS = "verify_attempts"
SLOT_ORDER_LOOKUPS = "order_lookups"
SLOT_VERIFIED_ORDER = "verified_order"
# replies that end a conversation the bot handled: Rasa sends them with this custom payload,
# and the service then asks the customer for a rating (CSAT) once
CLOSING_TEXTS = ("goodbye",)
ENDS_CONVERSATION = {"ends_conversation": True}
# what a hand-off's details say about the order, in the order the console's order panel
# shows them: the verified order's facts, and what the bot could not check (system down)
ORDER_DETAIL_FIELDS = ("verified_order", "order_status", "carrier", "tracking_number",
                       "tracking_link", "expected_delivery", "pickup_point", "pickup_deadline",
                       "payment_method", "not_checked")


class OrderTask(str, Enum):
    """What the customer wants done with an order."""

    TRACK = "track"
    CANCEL = "cancel"
    CHANGE = "change"


class OrderStep(str, Enum):
    """What the bot asked last in an order task, and so what the customer's next message answers."""

    ORDER_NUMBER = "order_number"
    # the e-mail or postcode on the order, to verify the customer
    CONTACT = "contact"
    # yes or no to cancelling the verified order
    CONFIRM = "confirm"
    # the new address or pickup point of the verified order
    NEW_DELIVERY = "new_delivery"
    # yes or no to a person (a delayed order, or one too late to cancel or change)
    PERSON = "person"


TASK_BY_INTENT = {
    "track_order": OrderTask.TRACK,
    "cancel_order": OrderTask.CANCEL,
    "change_order": OrderTask.CHANGE,
}
# a yes to the person offered during an order task hands over for this reason
REASON_BY_TASK = {
    OrderTask.TRACK: HandoffReason.LATE_DELIVERY,
    OrderTask.CANCEL: HandoffReason.CANCELLATION,
    OrderTask.CHANGE: HandoffReason.ORDER_CHANGE,
}


def priority_for(reason: str, threatened: bool) -> Priority:
    """A threat is urgent; a complaint or abuse high; anything else normal."""
    if threatened:
        return Priority.URGENT
    if reason in (HandoffReason.COMPLAINT, HandoffReason.ABUSE):
        return Priority.HIGH
    return Priority.NORMAL


def reason_for_offer(asked: Optional[str]) -> Optional[HandoffReason]:
    """The hand-off reason of a yes to the question the bot asked last, if it has one."""
    return REASON_BY_OFFER.get(asked or "")


def reason_for_intent(intent: Optional[str]) -> HandoffReason:
    """The hand-off reason a customer's intent implies, when the policy named none."""
    return REASON_BY_INTENT.get(intent or "", HandoffReason.UNRESOLVED)
