"""The hand-off action with a real local HTTP server standing in for the escalation
service, and an injected clock: open, closed, Saturday and a public holiday."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any, Dict, List

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.escalation_client import EscalationClient, parse_receipt
from actions.handoff import ActionHandoff, escalation_payload, expectation, local_reference
from tests.actions.conftest import OSLO, bot_event, clock, tracker, user_event
from tests.support.escalation_stub import SECRET, escalation_stub

TUESDAY_MORNING = dt.datetime(2026, 12, 1, 9, 0, tzinfo=OSLO)
TUESDAY_NIGHT = dt.datetime(2026, 12, 1, 22, 0, tzinfo=OSLO)
SATURDAY_AFTERNOON = dt.datetime(2026, 12, 5, 17, 0, tzinfo=OSLO)
CONSTITUTION_DAY = dt.datetime(2027, 5, 17, 12, 0, tzinfo=OSLO)  # Monday, public holiday
QUEUE = {"reference": "NH-ABC234", "position": 2, "eta_minutes": 6, "eta_max_minutes": 12,
         "agents_online": 2, "agents_available": 1, "open_now": True, "next_open": None}


def run_handoff(action: ActionHandoff, events: List[Dict[str, Any]],
                slots: Dict[str, Any] | None = None) -> tuple[list, list]:
    dispatcher = CollectingDispatcher()
    result = asyncio.run(action.run(dispatcher, tracker(events, slots), {}))
    return dispatcher.messages, result


def complaint_events() -> List[Dict[str, Any]]:
    return [user_event("pakken min 40918273 er ødelagt og ingen svarer", "complain"),
            bot_event("Det er jeg lei meg for", "utter_complain")]


def test_handoff_posts_a_signed_escalation_and_tells_the_queue_place() -> None:
    with escalation_stub(QUEUE) as stub:
        action = ActionHandoff(EscalationClient(stub.url, SECRET), clock(TUESDAY_MORNING))
        messages, events = run_handoff(action, complaint_events(),
                                       {"handoff_reason": "complaint", "order_number": "40918273"})
    assert stub.bad_signatures == 0 and len(stub.received) == 1
    sent = stub.received[0]
    assert sent["reason"] == "complaint" and sent["priority"] == "high"
    assert sent["details"] == {"order_number": "40918273"}
    assert [line["sender"] for line in sent["transcript"]] == ["customer", "bot"]
    assert [m["response"] for m in messages] == [
        "utter_handoff_complaint", "utter_handoff_context", "utter_handoff_queue"]
    assert messages[-1]["position"] == 2 and messages[-1]["wait"] == "omtrent 6–12 minutter"
    assert {"event": "slot", "name": "handoff_reference", "value": "NH-ABC234",
            "timestamp": None} in events


def test_a_threat_makes_the_escalation_urgent() -> None:
    events = [user_event("jeg vet hvor dere bor", "insult")]
    payload = escalation_payload(tracker(events), "abuse")
    assert payload["priority"] == "urgent"


def test_identity_numbers_are_masked_in_the_transcript() -> None:
    events = [user_event("personnummeret mitt er 150765-00565", "request_human")]  # valid fnr
    payload = escalation_payload(tracker(events), "request_human")
    assert "00565" not in payload["transcript"][0]["text"]


def test_when_the_service_refuses_the_customer_hears_it_honestly_with_a_reference() -> None:
    with escalation_stub(QUEUE) as stub:
        action = ActionHandoff(EscalationClient(stub.url, "wrong-secret"), clock(TUESDAY_MORNING))
        messages, _ = run_handoff(action, [user_event("menneske", "request_human")])
    assert stub.bad_signatures == 1
    assert messages[-1]["response"] == "utter_handoff_no_numbers"
    assert messages[-1]["reference"] == local_reference("conv-4711")


def test_without_a_service_at_night_the_customer_hears_when_it_opens() -> None:
    action = ActionHandoff(EscalationClient(base_url=""), clock(TUESDAY_NIGHT))
    messages, _ = run_handoff(action, [user_event("menneske", "request_human")])
    assert messages[-1]["response"] == "utter_handoff_no_numbers_closed"
    assert messages[-1]["next_open"] == "i morgen kl. 08:00"


@pytest.mark.parametrize(("moment", "next_open"), [
    (SATURDAY_AFTERNOON, "mandag kl. 08:00"),
    (CONSTITUTION_DAY, "i morgen kl. 08:00"),
])
def test_closed_days_tell_the_next_opening(moment: dt.datetime, next_open: str) -> None:
    receipt = parse_receipt({**QUEUE, "open_now": None, "position": 1, "eta_minutes": None})
    expected = expectation(receipt, "nb", "conv-1", moment)
    assert expected["response"] == "utter_handoff_closed"
    assert expected["next_open"] == next_open
    assert expected["reference"] == "NH-ABC234"



def test_a_kept_promise_names_the_order_it_passes_on() -> None:
    with escalation_stub(QUEUE) as stub:
        action = ActionHandoff(EscalationClient(stub.url, SECRET), clock(TUESDAY_MORNING))
        messages, _ = run_handoff(action, [user_event("40918273", "track_order")],
                                  {"handoff_reason": "late_delivery", "order_number": "40918273"})
    assert messages[0]["response"] == "utter_handoff_late_delivery"
    assert messages[0]["order_number"] == "40918273"
    assert stub.received[0]["reason"] == "late_delivery"
    assert stub.received[0]["details"] == {"order_number": "40918273"}


def test_yes_to_passing_on_an_erasure_request_hands_it_to_an_agent() -> None:
    events = [user_event("slett kontoen min og alt dere har om meg", "delete_data"),
              bot_event("Du kan be om ...", "utter_delete_data"),
              bot_event("Vil du at jeg sender en forespørsel om sletting ...", "utter_offer_erasure"),
              user_event("ja takk", "affirm")]
    with escalation_stub(QUEUE) as stub:
        action = ActionHandoff(EscalationClient(stub.url, SECRET), clock(TUESDAY_MORNING))
        messages, _ = run_handoff(action, events)
    assert stub.received[0]["reason"] == "erasure_request"
    assert [m["response"] for m in messages] == [
        "utter_handoff_erasure_request", "utter_handoff_context", "utter_handoff_queue"]
    assert messages[-1]["reference"] == "NH-ABC234"


def test_yes_to_another_question_is_not_an_erasure_request() -> None:
    events = [user_event("er du en robot?", "bot_challenge"),
              bot_event("Jeg er en chatbot ...", "utter_bot_challenge"),
              user_event("ja", "affirm")]
    with escalation_stub(QUEUE) as stub:
        action = ActionHandoff(EscalationClient(stub.url, SECRET), clock(TUESDAY_MORNING))
        run_handoff(action, events)
    assert stub.received[0]["reason"] != "erasure_request"


def test_the_payloads_scorecard_is_measured_not_set_by_hand() -> None:
    payload = escalation_payload(tracker([user_event("menneske", "request_human")]), "request_human")
    # nothing has been sent yet: the hand-off's own principles are not judged before it happened
    assert payload["scorecard"]["handoff_owned_with_summary"] is None
    assert payload["scorecard"]["expectations_set"] is None


def receipt(**changes: object):
    return parse_receipt({**QUEUE, **changes})


def test_open_with_a_basis_for_an_estimate_gives_place_and_range() -> None:
    expected = expectation(receipt(), "sv", "c", TUESDAY_MORNING)
    assert expected == {"response": "utter_handoff_queue", "reference": "NH-ABC234",
                        "position": 2, "wait": "ungefär 6–12 minuter"}


def test_open_without_a_basis_gives_place_and_reference_and_no_time() -> None:
    expected = expectation(receipt(eta_minutes=None, eta_max_minutes=None, agents_available=None),
                           "da", "c", TUESDAY_MORNING)
    assert expected["response"] == "utter_handoff_queue_no_estimate"
    assert expected["position"] == 2 and "wait" not in expected


def test_open_with_nobody_available_says_so_plainly_never_closed() -> None:
    expected = expectation(receipt(eta_minutes=None, agents_online=0, agents_available=0),
                           "nb", "c", TUESDAY_MORNING)
    assert expected["response"] == "utter_handoff_queue_nobody"
    assert expected["reference"] == "NH-ABC234" and expected["position"] == 2


def test_colleagues_online_but_all_busy_give_the_wait_when_there_is_a_basis() -> None:
    busy = expectation(receipt(agents_online=2, agents_available=0), "sv", "c", TUESDAY_MORNING)
    assert busy["response"] == "utter_handoff_queue" and busy["wait"] == "ungefär 6–12 minuter"
    unknown = expectation(receipt(eta_minutes=None, agents_online=2, agents_available=0),
                          "sv", "c", TUESDAY_MORNING)
    assert unknown["response"] == "utter_handoff_queue_nobody"


def test_closed_is_said_only_when_the_country_is_closed() -> None:
    # the service does not say; at 09:00 on a Tuesday Norway is open, at 22:00 it is not
    unknown = receipt(open_now=None, eta_minutes=None, agents_available=None)
    assert expectation(unknown, "nb", "c", TUESDAY_MORNING)["response"] != "utter_handoff_closed"
    assert expectation(unknown, "nb", "c", TUESDAY_NIGHT)["response"] == "utter_handoff_closed"


@pytest.mark.parametrize(("low", "high", "language", "words"), [
    (1, 1, "nb", "omtrent 1 minutt"),
    (1, 1, "da", "cirka 1 minut"),
    (1, 1, "sv", "ungefär 1 minut"),
    (4, 4, "sv", "ungefär 4 minuter"),
    (5, 10, "da", "cirka 5-10 minutter"),
])
def test_waiting_time_words_have_the_right_plural(low: int, high: int, language: str, words: str) -> None:
    expected = expectation(receipt(eta_minutes=low, eta_max_minutes=high), language, "c", TUESDAY_MORNING)
    assert expected["wait"] == words


def test_a_colleague_who_has_it_already_is_named_not_a_place_in_the_queue() -> None:
    """Auto-assignment gave it to Kari before the receipt came back: no queue to stand in."""
    taken = expectation(receipt(position=None, agent_name="Kari", agents_available=0),
                        "nb", "c", TUESDAY_MORNING)
    assert taken == {"response": "utter_handoff_taken", "reference": "NH-ABC234", "agent": "Kari"}
    assert expectation(receipt(), "nb", "c", TUESDAY_MORNING)["response"] == "utter_handoff_queue"
