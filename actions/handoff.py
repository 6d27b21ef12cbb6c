"""The owned hand-off: a person takes over, with the whole story, and the customer
is told what happens next and when."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any, Callable, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import answered, details, summary, threatened, topics, transcript
from actions.escalation_client import EscalationClient, EscalationReceipt
from actions.orders.action import verified_number
from actions.orders.describe import carrier_name, tracking_link
from actions.orders.port import normalise_order_number
from core import vocabulary as v
from core.languages import DEFAULT_LANGUAGE
from core.opening_hours import describe_opening, describe_wait, schedule_for
from core.scorecard import PRINCIPLE_FIELDS, score_conversation

INTRO_BY_REASON = {
    v.HandoffReason.REQUEST_HUMAN: "utter_handoff_request_human",
    v.HandoffReason.COMPLAINT: "utter_handoff_complaint",
    v.HandoffReason.OUT_OF_SCOPE: "utter_handoff_out_of_scope",
    v.HandoffReason.CLARIFICATION_FAILED: "utter_handoff_clarification_failed",
    v.HandoffReason.ABUSE: "utter_handoff_abuse",
    # follows the answer on deleting personal data: an agent confirms the erasure
    v.HandoffReason.ERASURE_REQUEST: "utter_handoff_erasure_request",
}
# a hand-off that keeps a promise about an order names the order it passes on
ORDER_INTROS = {
    v.HandoffReason.LATE_DELIVERY: "utter_handoff_late_delivery",
    v.HandoffReason.CANCELLATION: "utter_handoff_cancellation",
    v.HandoffReason.ORDER_CHANGE: "utter_handoff_order_change",
}
# ... and a person the order action offered on a verified order: the colleague has its facts
VERIFIED_ORDER_INTRO = "utter_handoff_verified_order"
# the order action has just said why a person takes over (content/orders.yml: verification
# failed, too many lookups, the order system down), so the hand-off adds no intro of its own
INTRO_SAID_BY_ORDER_ACTION = frozenset({v.HandoffReason.VERIFICATION_FAILED,
                                        v.HandoffReason.ORDER_SYSTEM_DOWN})
# what the bot could not do when the order system was down, by order task (for the agent)
NOT_CHECKED = {
    v.OrderTask.TRACK.value: "order status",
    v.OrderTask.CANCEL.value: "cancellation",
    v.OrderTask.CHANGE.value: "delivery change",
}
REASON_SLOT = v.SLOT_HANDOFF_REASON
REFERENCE_SLOT = v.SLOT_HANDOFF_REFERENCE


def last_question(events: List[Dict[Text, Any]]) -> Optional[Text]:
    """The response the bot gave just before the customer's latest message."""
    seen_customer = False
    for event in reversed(events):
        if event.get("event") == "user":
            if seen_customer:
                return None
            seen_customer = True
        elif seen_customer and (said := _response_of(event)):
            return said
    return None


def _response_of(event: Dict[Text, Any]) -> Optional[Text]:
    """The response an action or bot event says (`utter_...`), if any."""
    if event.get("event") == "action":
        name = str(event.get("name") or "")
        return name if name.startswith("utter_") else None
    if event.get("event") == "bot":
        return (event.get("metadata") or {}).get("utter_action")
    return None


def handoff_reason(tracker: Tracker) -> Text:
    """Why the bot hands over: what the policy said, else the question the customer said
    yes to (an offer to pass on an erasure request), else what the customer asked."""
    reason = tracker.get_slot(REASON_SLOT)
    if reason:
        return str(reason)
    offered = v.reason_for_offer(last_question(tracker.events))
    if offered is not None:
        return offered.value
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    return v.reason_for_intent(intent).value


def order_details(slots: Dict[Text, Any], reason: Text) -> Dict[Text, Any]:
    """The verified order's facts for the agent (never an unverified one's), and, when the
    order system was down, what the bot could not check or do."""
    facts = slots.get(v.SLOT_VERIFIED_ORDER)
    found: Dict[Text, Any] = {}
    if isinstance(facts, dict) and facts.get("number"):
        found = {
            "verified_order": facts["number"],
            "order_status": str(facts.get("status") or "").replace("_", " ") or None,
            "carrier": carrier_name(facts["carrier"]) if facts.get("carrier") else None,
            "tracking_number": facts.get("tracking_number"),
            "tracking_link": tracking_link(facts.get("carrier"), facts.get("tracking_number"),
                                           str(facts.get("country") or "")),
            "expected_delivery": facts.get("expected_delivery"),
            "pickup_point": facts.get("pickup_point"),
            "pickup_deadline": facts.get("pickup_deadline"),
            "payment_method": facts.get("payment_method"),
        }
    if reason == v.HandoffReason.ORDER_SYSTEM_DOWN.value:
        task = NOT_CHECKED.get(slots.get(v.SLOT_ORDER_TASK) or "", "order")
        verified = found and facts.get("number") == normalise_order_number(
            str(slots.get(v.SLOT_ORDER_NUMBER) or ""))
        found["not_checked"] = (f"{task}: the order system did not answer"
                                + ("" if verified else " (customer not verified yet)"))
    return {key: value for key, value in found.items() if value}


def escalation_payload(tracker: Tracker, reason: Text) -> Dict[Text, Any]:
    """Everything the agent needs, so that nobody asks the customer again.

    The scorecard is the conversation's so far, as measured from its events. Whether the
    hand-off is owned and sets expectations is measured after it happened, from the
    receipt and what the customer was told (core/scorecard.py, and the service for its
    copy), never set here by hand.
    """
    events = list(tracker.events)
    language = tracker.get_slot(v.SLOT_LANGUAGE) or DEFAULT_LANGUAGE
    slots = tracker.current_slot_values()
    facts = {**details(slots), **order_details(slots, reason)}
    topic_list = topics(events)
    card = score_conversation(tracker.sender_id, events)
    return {
        "event_id": uuid.uuid4().hex,
        "sent_at": time.time(),
        "conversation_id": tracker.sender_id,
        "language": language,
        "reason": reason,
        "priority": v.priority_for(reason, threatened(events)).value,
        "topics": topic_list,
        "answered": answered(events),
        "details": facts,
        "summary": summary(language, reason, topic_list, facts,
                           tracker.latest_message.get("text")),
        "transcript": transcript(events),
        "scorecard": {**{name: getattr(card, name) for name in PRINCIPLE_FIELDS}, "score": card.score},
    }


def local_reference(sender_id: Text) -> Text:
    """A reference for the conversation when the service cannot give one."""
    return "C-" + "".join(ch for ch in sender_id if ch.isalnum())[-8:].upper()


def expectation(
    receipt: Optional[EscalationReceipt], language: Text, sender_id: Text,
    now: Optional[dt.datetime] = None,
) -> Dict[Text, Any]:
    """The response that says truthfully what happens next, with the values it needs.

    Closed is said only when the country's customer service is closed. While it is open:
    a waiting time only when the service has a basis for one, else the place in the queue
    and the reference, and plainly "nobody is free right now" when the service knows so.
    """
    now = now or dt.datetime.now(dt.timezone.utc)
    schedule = schedule_for(language)
    next_open = describe_opening(schedule.next_open(now), now, language)
    if receipt is None:
        open_now = schedule.is_open(now)
        return {
            "response": v.UTTER_HANDOFF_NO_NUMBERS if open_now else v.UTTER_HANDOFF_NO_NUMBERS_CLOSED,
            "reference": local_reference(sender_id),
            "next_open": next_open,
        }
    if receipt.agent_name and receipt.position is None:  # a colleague has it already
        return {"response": v.UTTER_HANDOFF_TAKEN, "reference": receipt.reference,
                "agent": receipt.agent_name}
    open_now = schedule.is_open(now) if receipt.open_now is None else receipt.open_now
    if not open_now:
        return {"response": v.UTTER_HANDOFF_CLOSED, "reference": receipt.reference,
                "next_open": receipt.next_open or next_open}
    position = receipt.position or 1
    # nobody free: said plainly, unless colleagues are online but busy and the service has a
    # basis for the wait (then the wait is the better truth)
    if receipt.agents_available == 0 and (receipt.agents_online == 0 or receipt.eta_minutes is None):
        return {"response": v.UTTER_HANDOFF_QUEUE_NOBODY, "reference": receipt.reference,
                "position": position}
    if receipt.eta_minutes is not None:
        low = max(1, int(receipt.eta_minutes))
        high = max(low, int(receipt.eta_max_minutes or low))
        return {"response": v.UTTER_HANDOFF_QUEUE, "reference": receipt.reference,
                "position": position, "wait": describe_wait(low, high, language)}
    return {"response": v.UTTER_HANDOFF_QUEUE_NO_ESTIMATE, "reference": receipt.reference,
            "position": position}


def intro_response(reason: Text, order_number: Optional[Text], verified: bool = False) -> Optional[Text]:
    """What the bot says first: why a person takes over, in the reason's own words (None:
    the order action has already said it)."""
    try:
        known = v.HandoffReason(reason)
    except ValueError:
        return "utter_handoff_request_human"
    if known in INTRO_SAID_BY_ORDER_ACTION:
        return None
    if known in ORDER_INTROS:
        if verified:
            return VERIFIED_ORDER_INTRO
        return ORDER_INTROS[known] if order_number else "utter_handoff_request_human"
    return INTRO_BY_REASON.get(known, "utter_handoff_request_human")


class ActionHandoff(Action):
    """Says a person takes over, creates the escalation and sets expectations."""

    def __init__(
        self, client: Optional[EscalationClient] = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc),
    ) -> None:
        self.client = client or EscalationClient()
        self.clock = clock

    def name(self) -> Text:
        return v.ACTION_HANDOFF

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        reason = handoff_reason(tracker)
        language = tracker.get_slot(v.SLOT_LANGUAGE) or DEFAULT_LANGUAGE
        order_number = tracker.get_slot(v.SLOT_ORDER_NUMBER)
        verified = verified_number(tracker)
        intro = intro_response(reason, order_number, verified is not None)
        if intro:
            dispatcher.utter_message(response=intro, order_number=verified or order_number)
        dispatcher.utter_message(response="utter_handoff_context")
        receipt = await self.client.escalate(escalation_payload(tracker, reason))
        expected = expectation(receipt, language, tracker.sender_id, self.clock())
        dispatcher.utter_message(**expected)
        return [
            SlotSet(REFERENCE_SLOT, expected["reference"]),
            SlotSet(REASON_SLOT, None),
            SlotSet(v.SLOT_HANDED_OFF, True),
            # a person has the order task now (its details went with the escalation)
            SlotSet(v.SLOT_ORDER_TASK, None),
            SlotSet(v.SLOT_ORDER_STEP, None),
        ]
