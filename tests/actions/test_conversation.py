"""What the hand-off tells the agent the bot already answered (actions/conversation.py)."""

from __future__ import annotations

from actions.conversation import answered
from actions.handoff import escalation_payload
from tests.actions.conftest import bot_event, tracker, user_event


def test_the_topics_the_bot_answered_are_named_once_in_the_order_answered() -> None:
    events = [user_event("hva koster frakten?", "shipping_cost"),
              bot_event("Dette koster frakten hos oss: ...", "utter_shipping_cost"),
              user_event("hvor lang tid har jeg på å returnere?", "return_policy"),
              bot_event("Du har 30 dagers angrerett ...", "utter_return_policy__duration"),
              user_event("og frakten igjen?", "shipping_cost"),
              bot_event("Dette koster frakten hos oss: ...", "utter_shipping_cost")]
    assert answered(events) == ["shipping_cost", "return_policy"]


def test_small_talk_questions_and_an_order_topic_are_not_answers() -> None:
    """Track order's answer only asks for the order number; a greeting answers nothing."""
    events = [bot_event("Hei! Jeg er Nordhems assistent.", "utter_greet"),
              user_event("hvor er pakken min?", "track_order"),
              bot_event("Skriv ordrenummeret ditt her ...", "utter_track_order"),
              bot_event("Var det noe mer?", "utter_anything_else"),
              {"event": "bot", "text": "tekst uten respons"}]
    assert answered(events) == []


def test_the_hand_off_sends_what_the_bot_answered() -> None:
    events = [user_event("hva koster frakten?", "shipping_cost"),
              bot_event("Dette koster frakten hos oss: ...", "utter_shipping_cost"),
              user_event("jeg vil snakke med et menneske", "request_human")]
    payload = escalation_payload(tracker(events), "request_human")
    assert payload["answered"] == ["shipping_cost"] and payload["topics"] == ["shipping_cost"]
