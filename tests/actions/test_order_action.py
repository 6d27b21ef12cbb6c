"""The order action on a real seeded demo store (and the real HTTP adapter against a shop API
that is down), with constructed trackers: every step of verifying, telling, cancelling and
changing, and every way it stops."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher

from actions.handoff import escalation_payload, intro_response
from actions.orders import describe as d
from actions.orders.action import ActionOrder
from actions.orders.demo_store import DemoOrderStore, seed
from actions.orders.http_adapter import HttpOrderSystem
from actions.orders.port import Order, OrderStatus
from core import vocabulary as v
from core.content import load_content
from tests.actions.conftest import OSLO, tracker, user_event
from tests.actions.orders.shop_api import TOKEN, shop_api
from tests.support.servers import free_port

S = OrderStatus
TODAY = dt.date(2026, 12, 4)  # a Friday
NOW = dt.datetime(2026, 12, 4, 10, 0, tzinfo=OSLO)
WELCOME = load_content()["welcome_prefix"]


@pytest.fixture
def store(tmp_path: Path) -> DemoOrderStore:
    path = tmp_path / "orders.db"
    seed(path, TODAY)
    return DemoOrderStore(path)


@pytest.fixture
def orders(store: DemoOrderStore) -> List[Order]:
    return store.all_orders()


def first(orders: List[Order], status: OrderStatus, country: str = "NO", **match: Any) -> Order:
    return next(o for o in orders if o.status == status and o.country == country
                and all(getattr(o, key) == value for key, value in match.items()))


def action(store: Any, **kw: Any) -> ActionOrder:
    return ActionOrder(store, clock=lambda: NOW, **kw)


def run(act: ActionOrder, text: str, slots: Dict[str, Any], intent: str = "inform_order_number",
        confidence: float = 0.95, before: Optional[List[Dict[str, Any]]] = None,
        ) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """One run of the action after the customer's `text` (and the events `before` it)."""
    dispatcher = CollectingDispatcher()
    events = [*(before or []), user_event(text, intent, confidence)]

    async def one_turn() -> List[Dict[str, Any]]:
        try:
            return await act.run(dispatcher, tracker(events, {"welcomed": True, **slots}), {})
        finally:
            if isinstance(act.orders, HttpOrderSystem):
                await act.orders.close()  # its session belongs to this turn's event loop

    return dispatcher.messages, asyncio.run(one_turn())


def said(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def set_slots(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def follows_up_with(events: List[Dict[str, Any]]) -> Optional[str]:
    return next((e["name"] for e in events if e["event"] == "followup"), None)


def text(key: str, language: str = "nb", **values: Any) -> str:
    return d.order_text(key, language, **values)


def facts_of(order: Order) -> List[str]:
    """What nobody may hear before verifying: the order's status words, carrier, tracking
    number, address and dates."""
    found = [order.address, order.email, order.total]
    if order.carrier:
        found.append(d.carrier_name(order.carrier))
    if order.tracking_number:
        found.append(order.tracking_number)
    for day in (order.expected_delivery, order.pickup_deadline, order.delivered_on):
        if day:
            found.append(d.local_date(day, "nb"))
    found += [line for line in d.describe_order(order, "nb", TODAY).splitlines()
              if order.number not in line]
    return found


TRACK = {"order_task": "track"}


# --- verification before disclosure ---

def test_without_an_order_number_it_asks_for_it_with_the_welcome_first(store) -> None:
    messages, events = run(action(store), "hvor er pakken min?", {**TRACK, "welcomed": False},
                           "track_order")
    assert said(messages) == f"{WELCOME['nb']} {text(d.ASK_ORDER_NUMBER)}"
    assert set_slots(events) == {"order_step": "order_number"}


def test_with_the_number_it_asks_for_the_email_or_postcode_and_looks_nothing_up(store, orders) -> None:
    order = first(orders, S.SHIPPED)
    messages, events = run(action(store), order.number, {**TRACK, "order_number": order.number})
    assert said(messages) == text(d.ASK_CONTACT)
    assert set_slots(events) == {"order_step": "contact"}


@pytest.mark.parametrize("language", ["nb", "da", "sv"])
def test_a_verified_shipped_order_is_told_with_carrier_tracking_and_local_date(
        store, orders, language) -> None:
    order = first(orders, S.SHIPPED, {"nb": "NO", "da": "DK", "sv": "SE"}[language])
    messages, events = run(action(store), order.email, {
        **TRACK, "language": language, "order_number": order.number, "email": order.email})
    reply = said(messages)
    assert reply == d.describe_order(order, language, TODAY)
    assert d.carrier_name(order.carrier or "") in reply and order.tracking_number in reply
    assert d.local_date(order.expected_delivery, language, TODAY) in reply
    slots = set_slots(events)
    assert slots["order_task"] is None and slots["order_lookups"] == 1
    assert slots["verified_order"]["number"] == order.number
    assert slots["verified_order"]["status"] == "shipped"
    assert "@" not in str(slots["verified_order"])  # never the e-mail


def test_any_spelling_of_number_and_email_and_a_postcode_with_a_space_verify(store, orders) -> None:
    order = first(orders, S.AT_PICKUP_POINT, "SE")
    spaced = f"{order.postcode[:3]} {order.postcode[3:]}"
    messages, _ = run(action(store), spaced, {
        **TRACK, "order_number": f"NH-{order.number[:4]} {order.number[4:]}", "postcode": spaced})
    assert said(messages) == d.describe_order(order, "nb", TODAY)
    messages, _ = run(action(store), order.email.upper(), {
        **TRACK, "order_number": order.number, "email": f" {order.email.upper()} "})
    assert said(messages) == d.describe_order(order, "nb", TODAY)


def test_a_wrong_email_and_an_unknown_number_get_the_same_neutral_answer(store, orders) -> None:
    order = first(orders, S.SHIPPED)
    wrong_email = run(action(store), "feil@example.no", {
        **TRACK, "order_number": order.number, "email": "feil@example.no"})
    unknown = run(action(store), order.email, {
        **TRACK, "order_number": "40918273", "email": order.email})
    assert said(wrong_email[0]) == said(unknown[0]) == text(d.NO_MATCH)
    assert wrong_email[1] == unknown[1]
    assert set_slots(wrong_email[1]) == {
        "order_lookups": 1, "verify_attempts": 1, "email": None, "postcode": None,
        "order_step": "contact"}


def test_after_a_wrong_email_the_right_one_alone_is_enough(store, orders) -> None:
    order = first(orders, S.SHIPPED)
    act, slots = action(store), {**TRACK, "order_number": order.number, "email": "feil@example.no"}
    _, events = run(act, "feil@example.no", slots)
    slots.update(set_slots(events))
    assert slots["order_number"] == order.number  # kept: only the e-mail failed
    slots["email"] = order.email
    messages, _ = run(act, f"sorry, det er {order.email}", slots)
    assert said(messages) == d.describe_order(order, "nb", TODAY)


def test_no_order_fact_is_said_or_kept_before_the_match(store, orders) -> None:
    """A whole failed try, step by step: the texts and slots hold nothing of the order."""
    order = first(orders, S.SHIPPED)
    act, slots = action(store), dict(TRACK)
    everything: List[str] = []
    for message, given in (("hvor er pakken?", {}), (order.number, {"order_number": order.number}),
                           ("0555", {"postcode": "0555"}),
                           ("40918273", {"order_number": "40918273"}),  # no such order
                           ("hmm", {}),
                           (order.email, {"email": order.email})):
        slots.update(given)
        messages, events = run(act, message, slots)
        slots.update(set_slots(events))
        everything += [said(messages), str(events)]
    assert slots["verify_attempts"] == 2 and not slots.get("verified_order")
    assert slots["order_lookups"] == 2  # an unchanged question is not looked up again
    for fact in facts_of(order):
        assert all(fact not in part for part in everything), fact


def test_the_third_failure_hands_over_as_verification_failed(store, orders) -> None:
    order = first(orders, S.SHIPPED)
    messages, events = run(action(store), "feil@example.no", {
        **TRACK, "order_number": order.number, "email": "feil@example.no", "verify_attempts": 2})
    assert said(messages) == text(d.HANDOFF_VERIFICATION_FAILED)
    assert set_slots(events)["handoff_reason"] == "verification_failed"
    assert follows_up_with(events) == "action_handoff"


def test_lookups_are_limited_per_conversation(store, orders) -> None:
    order = first(orders, S.SHIPPED)
    messages, events = run(action(store, max_lookups=10), order.email, {
        **TRACK, "order_number": order.number, "email": order.email, "order_lookups": 10})
    assert said(messages) == text(d.HANDOFF_RATE_LIMITED)  # not the order, though it matches
    assert set_slots(events)["handoff_reason"] == "verification_failed"
    assert "order_lookups" not in set_slots(events)
    assert follows_up_with(events) == "action_handoff"


def test_an_order_verified_earlier_is_not_verified_again(store, orders) -> None:
    order = first(orders, S.SHIPPED)
    _, events = run(action(store), order.email, {**TRACK, "order_number": order.number,
                                                 "email": order.email})
    verified = set_slots(events)["verified_order"]
    messages, events = run(action(store), "kan jeg avbestille den?", {
        "order_task": "cancel", "order_number": order.number, "verified_order": verified,
        "order_lookups": 1}, "cancel_order")
    assert said(messages).startswith(text("cancel_too_late_sent", order_number=order.number))
    assert set_slots(events)["order_lookups"] == 2 and set_slots(events)["order_step"] == "person"


# --- telling the status ---

def test_a_delayed_order_apologises_and_offers_a_person_with_buttons(store, orders) -> None:
    order = first(orders, S.DELAYED)
    messages, events = run(action(store), order.email, {
        **TRACK, "order_number": order.number, "email": order.email})
    assert said(messages) == d.describe_order(order, "nb", TODAY)
    assert said(messages).endswith(text(d.DELAYED_OFFER_PERSON))
    assert [b["payload"] for b in messages[-1]["buttons"]] == ["/request_human", "/deny"]
    slots = set_slots(events)
    assert slots["order_step"] == "person" and "order_task" not in slots  # waits for the answer


# --- cancelling ---

def started(text: str, intent: str, task: str) -> List[Dict[str, Any]]:
    """The message that started the order task, and the policy's slot that started it."""
    return [user_event(text, intent), {"event": "slot", "name": "order_task", "value": task}]


NEW_ADDRESS = started("jeg vil endre leveringsadressen", "change_order", "change")


def verified_slots(act: ActionOrder, order: Order, task: str) -> Dict[str, Any]:
    """The slots after the customer was verified for `task` (the action's first answer)."""
    slots: Dict[str, Any] = {"order_task": task, "order_number": order.number, "email": order.email}
    _, events = run(act, order.email, slots, before=NEW_ADDRESS if task == "change" else None)
    return {**slots, **set_slots(events)}


def test_a_cancellation_asks_first_naming_the_order_then_cancels_with_the_refund(store, orders) -> None:
    order = first(orders, S.RECEIVED, payment_method="vipps")
    act = action(store)
    messages, events = run(act, order.email, {"order_task": "cancel", "order_number": order.number,
                                              "email": order.email})
    assert said(messages) == d.cancel_confirmation(order, "nb") and order.number in said(messages)
    assert [(b["title"], b["payload"]) for b in messages[0]["buttons"]] == [
        (text(d.BUTTON_CANCEL_YES), "/affirm"), (text(d.BUTTON_CANCEL_NO), "/deny")]
    slots = {"order_task": "cancel", "order_number": order.number, **set_slots(events)}
    assert slots["order_step"] == "confirm"
    assert asyncio.run(store.find(order.number)).status is S.RECEIVED  # not before the yes

    messages, events = run(act, "/affirm", slots, "affirm", 1.0)
    cancelled = asyncio.run(store.find(order.number))
    assert cancelled.status is S.CANCELLED
    assert said(messages) == d.cancellation_done(cancelled, "nb")
    assert "Vipps" in said(messages)
    assert set_slots(events)["order_task"] is None
    assert set_slots(events)["verified_order"]["status"] == "cancelled"


def test_no_to_the_cancellation_keeps_the_order(store, orders) -> None:
    order = first(orders, S.RECEIVED)
    act = action(store)
    slots = verified_slots(act, order, "cancel")
    messages, events = run(act, "nei", slots, "deny", 0.99)
    assert said(messages) == text(d.CANCEL_KEPT, order_number=order.number)
    assert asyncio.run(store.find(order.number)).status is S.RECEIVED
    assert set_slots(events)["order_task"] is None


def test_an_unsure_yes_has_the_question_asked_again_and_cancels_nothing(store, orders) -> None:
    order = first(orders, S.RECEIVED)
    act = action(store)
    slots = verified_slots(act, order, "cancel")
    messages, events = run(act, "jo kanskje", slots, "affirm", 0.42)
    assert said(messages) == d.cancel_confirmation(order, "nb")
    assert asyncio.run(store.find(order.number)).status is S.RECEIVED
    assert set_slots(events) == {"order_step": "confirm"}


def test_a_packed_order_is_not_cancelled_the_return_is_explained_and_a_person_offered(
        store, orders) -> None:
    order = first(orders, S.PACKED)
    messages, events = run(action(store), order.email, {
        "order_task": "cancel", "order_number": order.number, "email": order.email})
    assert said(messages) == d.cannot_cancel(order, "nb", TODAY)
    assert "nordhem.no/retur" in said(messages) and said(messages).endswith(text(d.OFFER_PERSON))
    assert [b["payload"] for b in messages[-1]["buttons"]] == ["/request_human", "/deny"]
    assert set_slots(events)["order_step"] == "person"
    assert asyncio.run(store.find(order.number)).status is S.PACKED


def test_packed_between_the_question_and_the_yes_is_not_cancelled(store, orders) -> None:
    order = first(orders, S.RECEIVED)
    act = action(store)
    slots = verified_slots(act, order, "cancel")
    with sqlite3.connect(store.path) as connection:  # the warehouse packs it meanwhile
        connection.execute("UPDATE orders SET status = 'packed' WHERE number = ?", (order.number,))
    messages, events = run(act, "/affirm", slots, "affirm", 1.0)
    assert said(messages).startswith(text("cancel_too_late_packed", order_number=order.number))
    assert set_slots(events)["order_step"] == "person"
    assert asyncio.run(store.find(order.number)).status is S.PACKED


# --- changing the delivery ---

def test_a_change_asks_for_the_new_address_then_changes_it(store, orders) -> None:
    order = first(orders, S.RECEIVED, delivery="home")
    act = action(store)
    slots = verified_slots(act, order, "change")
    assert slots["order_step"] == "new_delivery"
    messages, events = run(act, "Markveien 35B, 0554 Oslo", slots, "out_of_scope", 0.22)
    changed = asyncio.run(store.find(order.number))
    assert changed.address == "Markveien 35B, 0554 Oslo" and changed.delivery == "home"
    assert said(messages) == d.delivery_changed(changed, "nb")
    assert set_slots(events)["order_task"] is None


def test_a_pickup_point_order_is_asked_for_its_new_pickup_point(store, orders) -> None:
    order = first(orders, S.RECEIVED, delivery="pickup_point")
    act = action(store)
    slots: Dict[str, Any] = {"order_task": "change", "order_number": order.number, "email": order.email}
    messages, events = run(act, order.email, slots,
                           before=started("kan jeg bytte hentested?", "change_order", "change"))
    assert said(messages) == d.ask_new_delivery(order, "nb")
    slots.update(set_slots(events))
    run(act, "Kiwi Majorstuen, Kirkeveien 64, 0364 Oslo", slots, "pickup_point", 0.63)
    changed = asyncio.run(store.find(order.number))
    assert changed.delivery == "pickup_point" and changed.address.startswith("Kiwi Majorstuen")


def test_any_other_change_goes_to_a_colleague_with_the_verified_facts(store, orders) -> None:
    order = first(orders, S.RECEIVED)
    messages, events = run(action(store), order.email, {
        "order_task": "change", "order_number": order.number, "email": order.email},
        before=started("kan jeg bytte størrelse på genseren i ordren?", "change_order", "change"))
    assert said(messages) == text("change_by_person", order_number=order.number)
    assert set_slots(events)["handoff_reason"] == "order_change"
    assert set_slots(events)["verified_order"]["number"] == order.number
    assert follows_up_with(events) == "action_handoff"


def test_an_identity_number_in_a_new_address_is_masked_before_the_order_system(store, orders) -> None:
    order = first(orders, S.RECEIVED, delivery="home")
    act = action(store)
    slots = verified_slots(act, order, "change")
    run(act, "Markveien 35B, 0554 Oslo, fnr 15076500565", slots, "out_of_scope", 0.3)
    assert "15076500565" not in asyncio.run(store.find(order.number)).address


def test_no_to_the_new_address_changes_nothing(store, orders) -> None:
    order = first(orders, S.RECEIVED, delivery="home")
    act = action(store)
    slots = verified_slots(act, order, "change")
    messages, _ = run(act, "nei, glem det", slots, "deny", 0.97)
    assert said(messages) == text("change_kept", order_number=order.number)
    assert asyncio.run(store.find(order.number)).address == order.address


def test_a_shipped_order_cannot_be_changed_and_a_person_is_offered(store, orders) -> None:
    order = first(orders, S.SHIPPED)
    messages, events = run(action(store), order.email, {
        "order_task": "change", "order_number": order.number, "email": order.email},
        before=NEW_ADDRESS)
    assert said(messages) == d.cannot_change(order, "nb", TODAY)
    assert set_slots(events)["order_step"] == "person"


# --- the order system down ---

def test_the_shop_api_down_is_said_honestly_and_handed_over_saying_what_was_not_checked(
        orders) -> None:
    order = first(orders, S.SHIPPED)
    down = HttpOrderSystem(f"http://127.0.0.1:{free_port()}", TOKEN, timeout=1.0)  # nothing listens
    slots = {**TRACK, "order_number": order.number, "email": order.email}
    messages, events = run(action(down), order.email, slots)
    assert said(messages) == text(d.UNAVAILABLE_LOOKUP)
    assert set_slots(events)["handoff_reason"] == "order_system_down"
    assert follows_up_with(events) == "action_handoff"
    payload = escalation_payload(tracker([user_event(order.email, "inform_order_number")],
                                         {**slots, **set_slots(events)}), "order_system_down")
    assert payload["details"]["not_checked"] == (
        "order status: the order system did not answer (customer not verified yet)")
    assert "verified_order" not in payload["details"]


def test_the_shop_api_failing_while_cancelling_names_the_order_not_cancelled(orders) -> None:
    order = first(orders, S.RECEIVED)
    with shop_api([order]) as api:
        act = action(HttpOrderSystem(api.url, TOKEN, timeout=2.0))
        slots = verified_slots(act, order, "cancel")
        api.fail_with = 503
        messages, events = run(act, "/affirm", slots, "affirm", 1.0)
    assert said(messages) == text(d.UNAVAILABLE_CANCEL, order_number=order.number)
    assert set_slots(events)["handoff_reason"] == "order_system_down"
    payload = escalation_payload(tracker([user_event("/affirm", "affirm")],
                                         {**slots, **set_slots(events)}), "order_system_down")
    assert payload["details"]["not_checked"] == "cancellation: the order system did not answer"
    assert payload["details"]["verified_order"] == order.number


# --- what the hand-off carries ---

def test_a_hand_off_carries_the_verified_orders_facts(store, orders) -> None:
    order = first(orders, S.DELAYED, expected_delivery=None)
    slots = {**TRACK, "order_number": order.number, "email": order.email}
    _, events = run(action(store), order.email, slots)
    payload = escalation_payload(tracker([user_event("ja", "affirm")], {**slots, **set_slots(events)}),
                                 "late_delivery")
    details = payload["details"]
    assert details["verified_order"] == order.number and details["order_status"] == "delayed"
    assert details["carrier"] == d.carrier_name(order.carrier or "")
    assert details["tracking_number"] == order.tracking_number
    assert details["tracking_link"] == d.tracking_link(order.carrier, order.tracking_number,
                                                       order.country)
    assert details["payment_method"] == order.payment_method
    assert "expected_delivery" not in details  # a delay without a new estimate
    assert set(details) - {"order_number", "email"} <= set(v.ORDER_DETAIL_FIELDS)
    assert intro_response("late_delivery", order.number, verified=True) == "utter_handoff_verified_order"


def test_the_order_actions_own_hand_offs_get_no_second_intro() -> None:
    assert intro_response("verification_failed", None) is None
    assert intro_response("order_system_down", "40918273") is None
    assert intro_response("late_delivery", "40918273") == "utter_handoff_late_delivery"


def test_the_action_server_finds_the_order_action_with_its_store_from_the_environment(
        store, monkeypatch) -> None:
    monkeypatch.setenv("NORDHEM_ORDERS_DB", str(store.path))
    monkeypatch.delenv("NORDHEM_ORDERS_URL", raising=False)
    executor = ActionExecutor()
    executor.register_package("actions")
    registered = executor.actions["action_order"]
    assert isinstance(registered.__self__, ActionOrder)  # type: ignore[attr-defined]
    assert registered.__self__.orders.path == store.path  # type: ignore[attr-defined]

