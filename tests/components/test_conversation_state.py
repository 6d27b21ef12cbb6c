"""Holding the conversation, rule by rule, on plain values (no tracker)."""

from __future__ import annotations

from typing import Any

from bot.components.conversation_state import TurnInput, TurnRules, plan_turn, supplied_order_number

RULES = TurnRules(answerable=frozenset({
    "track_order", "cancel_order", "change_order", "shipping_cost", "return_policy",
    "payment_methods", "delivery_time", "opening_hours"}))


def turn(text: str, intent: str | None = "shipping_cost", confidence: float = 0.95, **kw: Any) -> TurnInput:
    return TurnInput(text=text, intent=intent, confidence=confidence, language=kw.pop("language", "nb"),
                     ambiguous=kw.pop("ambiguous", False), **kw)


def test_a_bare_number_keeps_the_promise_with_its_reason() -> None:
    plan = plan_turn(turn("40918273", "deny", 0.3, ambiguous=True, awaiting="late_delivery"), RULES)
    assert plan.actions == ["action_handoff"] and plan.reason == "late_delivery"
    assert plan.slots == {"awaiting_order_for": None, "order_number": "40918273"}


def test_a_number_in_a_sentence_keeps_the_promise() -> None:
    message = turn("ordre nr. 40918273 – fortsatt ingenting", "track_order",
                   given={"order_number": "40918273"}, awaiting="cancellation")
    assert plan_turn(message, RULES).reason == "cancellation"
    assert supplied_order_number(turn("det er NH-40918273", "affirm")) == "NH-40918273"


def test_changing_the_subject_drops_the_wait() -> None:
    plan = plan_turn(turn("hva koster frakt?", "shipping_cost", awaiting="late_delivery"), RULES)
    assert plan.actions == []
    assert plan.slots["awaiting_order_for"] is None and plan.slots["topic"] == "shipping_cost"


def test_an_answer_that_asks_for_the_order_number_records_the_promise() -> None:
    plan = plan_turn(turn("jeg vil avbestille", "cancel_order"), RULES)
    assert plan.actions == []  # the rule answers and invites the number
    assert plan.slots == {"topic": "cancel_order", "awaiting_order_for": "cancellation"}


def test_a_known_order_number_is_not_asked_for_again() -> None:
    message = turn("pakke 40918273 har ikke kommet", "track_order",
                   known={"order_number": "40918273"}, given={"order_number": "40918273"})
    plan = plan_turn(message, RULES)
    assert plan.actions == ["action_handoff"] and plan.reason == "late_delivery"


def test_an_unsure_message_with_a_known_number_is_not_handed_off_on_a_guess() -> None:
    message = turn("pakken?", "track_order", 0.4, ambiguous=True, known={"order_number": "40918273"})
    assert plan_turn(message, RULES).actions == []


def test_several_questions_are_answered_in_order_with_one_check_at_the_end() -> None:
    questions = [{"text": "hva koster frakt", "intent": "shipping_cost", "confidence": 0.9},
                 {"text": "hvordan returnerer jeg", "intent": "return_policy", "confidence": 0.8}]
    plan = plan_turn(turn("hva koster frakt, og hvordan returnerer jeg?", "shipping_cost", 0.5,
                          ambiguous=True, questions=questions), RULES)
    assert plan.actions == ["utter_shipping_cost", "utter_return_policy", "utter_anything_else"]
    assert plan.slots["topic"] == "return_policy"


def test_an_unsure_part_does_not_make_a_second_answer() -> None:
    questions = [{"text": "hva koster frakt", "intent": "shipping_cost", "confidence": 0.9},
                 {"text": "og så videre", "intent": "return_policy", "confidence": 0.3}]
    assert plan_turn(turn("hva koster frakt og så videre", questions=questions), RULES).actions == []


def test_a_confident_whole_message_on_another_topic_is_not_split() -> None:
    questions = [{"text": "a b c", "intent": "shipping_cost", "confidence": 0.9},
                 {"text": "d e f", "intent": "return_policy", "confidence": 0.9}]
    message = turn("a b c og d e f", "payment_methods", 0.95, questions=questions)
    assert plan_turn(message, RULES).actions == []


def test_a_promise_among_several_questions_is_kept_when_the_number_is_known() -> None:
    questions = [{"text": "hva koster frakt", "intent": "shipping_cost", "confidence": 0.9},
                 {"text": "hvor er pakken", "intent": "track_order", "confidence": 0.9}]
    plan = plan_turn(turn("...", "track_order", questions=questions,
                          known={"order_number": "40918273"}), RULES)
    assert plan.actions == ["utter_shipping_cost", "action_handoff"]
    assert plan.reason == "late_delivery"


def test_not_what_i_meant_clarifies_and_forgets_the_topic() -> None:
    plan = plan_turn(turn("nei, det var ikke det jeg mente", "not_what_i_meant", topic="return_policy"),
                     RULES)
    assert plan.actions == ["action_clarify"] and plan.slots["topic"] is None


def test_the_story_around_a_question_is_not_a_second_question() -> None:
    questions = [{"text": "jeg vil slette kontoen min", "intent": "delete_data", "confidence": 0.99,
                  "asks": False},
                 {"text": "og hva koster frakt", "intent": "shipping_cost", "confidence": 0.9, "asks": True}]
    assert plan_turn(turn("...", "delete_data", 0.99, questions=questions), RULES).actions == []
