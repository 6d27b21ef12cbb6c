"""Order self-service in the conversation: one step of an order task each time
PrinciplesPolicy plans `action_order` (bot/components/conversation_state.py decides when).

The task (slot `order_task`: track, cancel, change) comes from the customer's question; the
step (slot `order_step`) is what this action asked last, so that the policy can read the
next message as its answer. Each run reads the slots and the latest message and does one
step:

- verification before disclosure: without the order number it asks for it, without the
  e-mail or postcode it asks for that (and says why); with both it asks the order system
  to `verify` them. Nothing about the order is said before a match, and an unknown number
  gets the same neutral answer as a wrong e-mail or postcode. The e-mail or postcode that
  failed is forgotten so that the customer can try again; the `max_failures`-th failure in
  the conversation hands over (reason verification_failed);
- at most `max_lookups` calls to the order system per conversation, then a hand-off;
- verified: the status in the customer's language (a delayed order also offers a person);
  a cancellation asks yes or no first; a change of the delivery asks for the new address or
  pickup point (any other change, of size or items, goes to a colleague with the facts).
  An order that is packed or further along is not cancelled or changed: the return is
  explained instead and a person offered;
- the order system does not answer: said honestly, and a hand-off (reason
  order_system_down) whose details say what could not be checked.

A hand-off goes through `action_handoff` (FollowupAction), which sends the verified order's
facts (slot `verified_order`) to the agent. When a task is finished this action clears
`order_task`, and the policy adds "anything else?".
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Callable, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.orders import describe
from actions.orders.factory import order_system_from_env
from actions.orders.port import (
    CHANGEABLE,
    NotChangeable,
    Order,
    OrderSystem,
    OrderSystemUnavailable,
    UnknownOrder,
    normalise_order_number,
)
from core import vocabulary as v
from core.ambiguity import is_ambiguous
from core.content import in_language, load_content
from core.languages import DEFAULT_LANGUAGE
from core.opening_hours import schedule_for
from core.personal_data import mask
from core.principles import principles_config

MAX_FAILURES = 3
MAX_LOOKUPS = 10
Task, Step = v.OrderTask, v.OrderStep
YES, NO = f"/{v.AFFIRM_INTENT}", f"/{v.DENY_INTENT}"
# yes to the person offered is a request for one (PrinciplesPolicy hands over with the task's reason)
PERSON = f"/{v.REQUEST_HUMAN_INTENT}"
# the order system down while cancelling or changing a verified order; else the lookup's text
UNAVAILABLE = {Step.CONFIRM.value: describe.UNAVAILABLE_CANCEL,
               Step.NEW_DELIVERY.value: describe.UNAVAILABLE_CHANGE}
# (content/orders.yml) the buttons under the offer of a person, "no" to a change, and a
# change the bot leaves to a colleague
BUTTON_PERSON_YES, BUTTON_PERSON_NO = "button_person_yes", "button_person_no"
CHANGE_KEPT = "change_kept"
CHANGE_BY_PERSON = "change_by_person"
# a change of where the order goes, the one change the bot makes itself (nb, da, sv)
DELIVERY_WORDS = re.compile(
    r"(?i)\b(?:\w*adress\w*|levering\w*|leverans\w*|hentested\w*|pakkeshop\w*|"
    r"pakkeboks\w*|pakkeautomat\w*|afhentningssted\w*|utlämningsställe\w*|ombud\w*|"
    r"paketskåp\w*|pakkeskab\w*|sendes til|sende den til|skickas till|skicka den till)")


def order_facts(order: Order) -> Dict[Text, Any]:
    """What the conversation keeps of a verified order (slot `verified_order`): what the
    customer was told and an agent needs, never the e-mail, postcode or home address."""
    return {
        "number": order.number,
        "status": order.status.value,
        "country": order.country,
        "payment_method": order.payment_method,
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "expected_delivery": order.expected_delivery.isoformat() if order.expected_delivery else None,
        "pickup_deadline": order.pickup_deadline.isoformat() if order.pickup_deadline else None,
        "delivery": order.delivery,
        "pickup_point": order.address if order.delivery == describe.PICKUP_POINT else None,
    }


def verified_number(tracker: Tracker) -> Optional[Text]:
    """The number of the order the customer was verified against, if any."""
    facts = tracker.get_slot(v.SLOT_VERIFIED_ORDER)
    return facts.get("number") if isinstance(facts, dict) else None


def task_messages(tracker: Tracker) -> List[Text]:
    """The customer's messages since the order task began (the latest alone when unknown)."""
    events = list(tracker.events)
    started = [index for index, event in enumerate(events) if event.get("event") == "slot"
               and event.get("name") == v.SLOT_ORDER_TASK and event.get("value")]
    if not started:
        return [tracker.latest_message.get("text") or ""]
    users = [index for index in range(started[-1]) if events[index].get("event") == "user"]
    first = users[-1] if users else started[-1]
    return [event.get("text") or "" for event in events[first:] if event.get("event") == "user"]


def about_delivery(tracker: Tracker) -> bool:
    """Whether the change asked for is of the address or pickup point (else size, items, ...)."""
    return any(DELIVERY_WORDS.search(text) for text in task_messages(tracker))


def _count(tracker: Tracker, slot: Text) -> int:
    try:
        return int(tracker.get_slot(slot) or 0)
    except (TypeError, ValueError):
        return 0


class _Reply:
    """What the action says and the events it returns in one run."""

    def __init__(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        self.dispatcher = dispatcher
        self.language: Text = tracker.get_slot(v.SLOT_LANGUAGE) or DEFAULT_LANGUAGE
        # the conversation's first reply starts with the welcome, as every response does
        self._welcome = not tracker.get_slot(v.SLOT_WELCOMED)
        self.lookups = _count(tracker, v.SLOT_ORDER_LOOKUPS)
        self.events: List[EventType] = []

    def text(self, key: Text, **values: Any) -> Text:
        return describe.order_text(key, self.language, **values)

    def say(self, text: Text, buttons: Optional[List[Dict[Text, Text]]] = None) -> None:
        if self._welcome:
            text = f"{in_language(load_content()['welcome_prefix'], self.language)} {text}"
            self._welcome = False
        self.dispatcher.utter_message(text=text, buttons=buttons or [])

    def set(self, slot: Text, value: Any) -> None:
        self.events.append(SlotSet(slot, value))

    def ask(self, step: Step, text: Text, buttons: Optional[List[Dict[Text, Text]]] = None) -> None:
        self.say(text, buttons)
        self.set(v.SLOT_ORDER_STEP, step.value)

    def yes_no(self, yes_key: Text, no_key: Text, yes: Text = YES) -> List[Dict[Text, Text]]:
        return [{"title": self.text(yes_key), "payload": yes},
                {"title": self.text(no_key), "payload": NO}]

    def offer_person(self, text: Text) -> None:
        """A text that ends with the offer of a person, with yes/no buttons."""
        self.ask(Step.PERSON, text, self.yes_no(BUTTON_PERSON_YES, BUTTON_PERSON_NO, PERSON))

    def finish(self) -> List[EventType]:
        """The task is done: the policy follows with "anything else?"."""
        self.set(v.SLOT_ORDER_TASK, None)
        self.set(v.SLOT_ORDER_STEP, None)
        return self.events

    def hand_off(self, key: Text, reason: v.HandoffReason, **values: Any) -> List[EventType]:
        """Says why a person takes over (the hand-off intro), then action_handoff says what
        happens next and sends the facts. The task's slots stay for its details."""
        self.say(self.text(key, **values))
        self.events += [SlotSet(v.SLOT_HANDOFF_REASON, reason.value), FollowupAction(v.ACTION_HANDOFF)]
        return self.events


class ActionOrder(Action):
    """One step of looking up, verifying, cancelling or changing the customer's order."""

    def __init__(
        self, orders: Optional[OrderSystem] = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc),
        max_failures: int = MAX_FAILURES, max_lookups: int = MAX_LOOKUPS,
    ) -> None:
        # one order system per action-server process (the HTTP adapter pools its connections)
        self.orders: OrderSystem = orders if orders is not None else order_system_from_env()
        self.clock = clock
        self.max_failures = max_failures
        self.max_lookups = max_lookups

    def name(self) -> Text:
        return v.ACTION_ORDER

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        reply = _Reply(dispatcher, tracker)
        try:
            task = Task(tracker.get_slot(v.SLOT_ORDER_TASK))
        except ValueError:
            return []  # no order task: nothing to do (the policy plans this action with one)
        try:
            return await self._step(reply, tracker, task)
        except (OrderSystemUnavailable, UnknownOrder):
            # UnknownOrder: a verified order vanished in between, which only the shop can explain
            number = verified_number(tracker)
            key = UNAVAILABLE.get(tracker.get_slot(v.SLOT_ORDER_STEP) or "") if number else None
            return reply.hand_off(key or describe.UNAVAILABLE_LOOKUP,
                                  v.HandoffReason.ORDER_SYSTEM_DOWN, order_number=number)

    def _today(self, language: Text) -> dt.date:
        """The customer's local date (for "i morgen" and dates that have passed)."""
        return self.clock().astimezone(schedule_for(language).timezone).date()

    async def _step(self, reply: _Reply, tracker: Tracker, task: Task) -> List[EventType]:
        step = tracker.get_slot(v.SLOT_ORDER_STEP)
        number = verified_number(tracker)
        if step == Step.CONFIRM.value and number:
            return await self._confirm_cancel(reply, tracker, number)
        if step == Step.NEW_DELIVERY.value and number:
            return await self._change_delivery(reply, tracker, number)
        order = await self._verified_order(reply, tracker)
        if order is None:
            return reply.events  # asked for a detail, said no match, or handing over
        return self._proceed(reply, task, order, about_delivery(tracker))

    # --- verification ---

    def _may_look_up(self, reply: _Reply) -> bool:
        """Counts one more call to the order system, or says no more (and hands over)."""
        if reply.lookups >= self.max_lookups:
            reply.hand_off(describe.HANDOFF_RATE_LIMITED, v.HandoffReason.VERIFICATION_FAILED)
            return False
        reply.lookups += 1
        reply.set(v.SLOT_ORDER_LOOKUPS, reply.lookups)
        return True

    async def _verified_order(self, reply: _Reply, tracker: Tracker) -> Optional[Order]:
        """The order once the customer is verified against it; else None, having asked for
        what is missing, said the neutral no-match, or handed over."""
        written = tracker.get_slot(v.SLOT_ORDER_NUMBER)
        if not written:
            reply.ask(Step.ORDER_NUMBER, reply.text(describe.ASK_ORDER_NUMBER))
            return None
        number = normalise_order_number(str(written)) or str(written)
        if number == verified_number(tracker):
            # verified earlier in the conversation: its current state, without asking again
            if not self._may_look_up(reply):
                return None
            order = await self.orders.find(number)
            if order is not None:
                reply.set(v.SLOT_VERIFIED_ORDER, order_facts(order))
                return order
        contacts = [str(value) for value in (tracker.get_slot(v.SLOT_EMAIL),
                                              tracker.get_slot(v.SLOT_POSTCODE)) if value]
        if not contacts:
            reply.ask(Step.CONTACT, reply.text(describe.ASK_CONTACT))
            return None
        for contact in contacts:
            if not self._may_look_up(reply):
                return None
            order = await self.orders.verify(number, contact)
            if order is not None:
                reply.set(v.SLOT_VERIFIED_ORDER, order_facts(order))
                return order
        self._not_verified(reply, tracker)
        return None

    def _not_verified(self, reply: _Reply, tracker: Tracker) -> None:
        """The same answer for an unknown number and a wrong e-mail or postcode."""
        failures = _count(tracker, v.SLOT_VERIFY_ATTEMPTS) + 1
        reply.set(v.SLOT_VERIFY_ATTEMPTS, failures)
        # the e-mail or postcode that did not match is forgotten; the number is kept, so that
        # "sorry, it's kari.n@..." tries again (a new number replaces it, as the policy reads it)
        for slot in (v.SLOT_EMAIL, v.SLOT_POSTCODE):
            reply.set(slot, None)
        if failures >= self.max_failures:
            reply.hand_off(describe.HANDOFF_VERIFICATION_FAILED, v.HandoffReason.VERIFICATION_FAILED)
            return
        # asked to check both: the next message may give either or both
        reply.ask(Step.CONTACT, reply.text(describe.NO_MATCH))

    # --- what the customer asked for, on a verified order ---

    def _proceed(self, reply: _Reply, task: Task, order: Order, delivery: bool) -> List[EventType]:
        language = reply.language
        if task is Task.TRACK:
            today = self._today(language)
            text = describe.describe_order(order, language, today)
            if describe.offers_person(order, today):
                reply.offer_person(text)
                return reply.events
            reply.say(text)
            return reply.finish()
        if order.status not in CHANGEABLE:
            self._too_late(reply, task, order)
            return reply.events
        if task is Task.CANCEL:
            reply.ask(Step.CONFIRM, describe.cancel_confirmation(order, language),
                      reply.yes_no(describe.BUTTON_CANCEL_YES, describe.BUTTON_CANCEL_NO))
        elif delivery:
            reply.ask(Step.NEW_DELIVERY, describe.ask_new_delivery(order, language))
        else:  # size, items, ...: in time, but not the bot's to change
            return reply.hand_off(CHANGE_BY_PERSON, v.HandoffReason.ORDER_CHANGE, order_number=order.number)
        return reply.events

    def _too_late(self, reply: _Reply, task: Task, order: Order) -> None:
        """Packed or further along: what can be done instead, and the offer of a person."""
        today = self._today(reply.language)
        explain = describe.cannot_cancel if task is Task.CANCEL else describe.cannot_change
        reply.set(v.SLOT_VERIFIED_ORDER, order_facts(order))
        reply.offer_person(explain(order, reply.language, today))

    @staticmethod
    def _sure(tracker: Tracker) -> bool:
        """Whether the yes or no is clear enough to act on (a button always is)."""
        config = principles_config()
        return not is_ambiguous(tracker.latest_message or {}, config["min_confidence"],
                                config["min_margin"])

    async def _confirm_cancel(self, reply: _Reply, tracker: Tracker, number: Text) -> List[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == v.DENY_INTENT and self._sure(tracker):
            reply.say(reply.text(describe.CANCEL_KEPT, order_number=number))
            return reply.finish()
        if intent != v.AFFIRM_INTENT or not self._sure(tracker):
            reply.ask(Step.CONFIRM, reply.text("cancel_confirm", order_number=number),
                      reply.yes_no(describe.BUTTON_CANCEL_YES, describe.BUTTON_CANCEL_NO))
            return reply.events
        try:
            order = await self.orders.cancel(number)
        except NotChangeable as error:
            self._too_late(reply, Task.CANCEL, error.order)
            return reply.events
        reply.set(v.SLOT_VERIFIED_ORDER, order_facts(order))
        reply.say(describe.cancellation_done(order, reply.language))
        return reply.finish()

    async def _change_delivery(self, reply: _Reply, tracker: Tracker, number: Text) -> List[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == v.DENY_INTENT and self._sure(tracker):
            reply.say(reply.text(CHANGE_KEPT, order_number=number))
            return reply.finish()
        # an identity or card number typed into the address never reaches the order system
        place = mask((tracker.latest_message.get("text") or "").strip())
        facts = tracker.get_slot(v.SLOT_VERIFIED_ORDER) or {}
        to_pickup_point = facts.get("delivery") == describe.PICKUP_POINT
        if not place or place.startswith("/"):
            key = "change_ask_pickup_point" if to_pickup_point else "change_ask_address"
            reply.ask(Step.NEW_DELIVERY, reply.text(key, order_number=number))
            return reply.events
        try:
            if to_pickup_point:
                order = await self.orders.change_delivery(number, pickup_point=place)
            else:
                order = await self.orders.change_delivery(number, address=place)
        except NotChangeable as error:
            self._too_late(reply, Task.CHANGE, error.order)
            return reply.events
        reply.set(v.SLOT_VERIFIED_ORDER, order_facts(order))
        reply.say(describe.delivery_changed(order, reply.language))
        return reply.finish()
