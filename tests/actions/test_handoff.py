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
QUEUE = {"reference": "NH-ABC234", "position": 2, "eta_minutes": 6, "agents_online": 2,
         "open_now": True, "next_open": None}


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
    assert messages[-1]["position"] == 2 and messages[-1]["eta_minutes"] == 6
    assert {"event": "slot", "name": "handoff_reference", "value": "NH-ABC234",
            "timestamp": None} in events


def test_a_threat_makes_the_escalation_urgent() -> None:
    events = [user_event("jeg vet hvor dere bor", "insult")]
    payload = escalation_payload(tracker(events), "abuse")
    assert payload["priority"] == "urgent"


def test_identity_numbers_are_masked_in_the_transcript() -> None:
    events = [user_event("personnummeret mitt er 010190-12345", "request_human")]
    payload = escalation_payload(tracker(events), "request_human")
    assert "12345" not in payload["transcript"][0]["text"]


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

