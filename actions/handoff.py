"""The owned hand-off: a person takes over, with the whole story, and the customer
is told what happens next and when."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import replace
from typing import Any, Callable, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import details, summary, threatened, topics, transcript
from actions.escalation_client import EscalationClient, EscalationReceipt
from core import vocabulary as v
from core.languages import DEFAULT_LANGUAGE
from core.opening_hours import describe_opening, schedule_for
from core.scorecard import PRINCIPLE_FIELDS, score_conversation

INTRO_BY_REASON = {
    v.HandoffReason.REQUEST_HUMAN: "utter_handoff_request_human",
    v.HandoffReason.COMPLAINT: "utter_handoff_complaint",
    v.HandoffReason.OUT_OF_SCOPE: "utter_handoff_out_of_scope",
    v.HandoffReason.CLARIFICATION_FAILED: "utter_handoff_clarification_failed",
    v.HandoffReason.ABUSE: "utter_handoff_abuse",
}
REASON_SLOT = v.SLOT_HANDOFF_REASON
REFERENCE_SLOT = v.SLOT_HANDOFF_REFERENCE


def handoff_reason(tracker: Tracker) -> Text:
    """Why the bot hands over: what the policy said, else what the customer asked."""
    reason = tracker.get_slot(REASON_SLOT)
    if reason:
        return str(reason)
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    return v.reason_for_intent(intent).value


def escalation_payload(tracker: Tracker, reason: Text) -> Dict[Text, Any]:
    """Everything the agent needs, so that nobody asks the customer again."""
    events = list(tracker.events)
    language = tracker.get_slot(v.SLOT_LANGUAGE) or DEFAULT_LANGUAGE
    facts = details(tracker.current_slot_values())
    topic_list = topics(events)
    # this very hand-off carries the summary and, as it runs, sets expectations; when it
    # is the bot's first reply, that reply opens with the welcome (tools/build_domain.py)
    card = score_conversation(tracker.sender_id, events)
    card = replace(card, handed_off=True, handoff_owned_with_summary=True,
                   expectations_set=True, resolved_without_handoff=False,
                   welcomed=True if card.welcomed is None else card.welcomed)
    return {
        "event_id": uuid.uuid4().hex,
        "sent_at": time.time(),
        "conversation_id": tracker.sender_id,
        "language": language,
        "reason": reason,
        "priority": v.priority_for(reason, threatened(events)).value,
        "topics": topic_list,
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
    """The response that says what happens next, with the values it needs."""
    now = now or dt.datetime.now(dt.timezone.utc)
    schedule = schedule_for(language)
    next_open = describe_opening(schedule.next_open(now), now, language)
    if receipt is None:
        open_now = schedule.is_open(now)
        return {
            "response": "utter_handoff_no_numbers" if open_now else "utter_handoff_no_numbers_closed",
            "reference": local_reference(sender_id),
            "next_open": next_open,
        }
    open_now = schedule.is_open(now) if receipt.open_now is None else receipt.open_now
    if open_now and receipt.position is not None and receipt.eta_minutes is not None:
        return {"response": "utter_handoff_queue", "reference": receipt.reference,
                "position": receipt.position, "eta_minutes": max(1, int(receipt.eta_minutes))}
    return {"response": "utter_handoff_closed", "reference": receipt.reference,
            "next_open": receipt.next_open or next_open}


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
        intro = INTRO_BY_REASON.get(v.HandoffReason(reason), "utter_handoff_request_human") \
            if reason in set(v.HandoffReason) else "utter_handoff_request_human"
        dispatcher.utter_message(response=intro)
        dispatcher.utter_message(response="utter_handoff_context")
        receipt = self.client.escalate(escalation_payload(tracker, reason))
        expected = expectation(receipt, language, tracker.sender_id, self.clock())
        dispatcher.utter_message(**expected)
        return [
            SlotSet(REFERENCE_SLOT, expected["reference"]),
            SlotSet(REASON_SLOT, None),
            SlotSet(v.SLOT_HANDED_OFF, True),
        ]
