"""Holding the conversation, rule by rule, on plain values (no tracker)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.components.conversation_state import (
    TurnInput,
    TurnRules,
    plan_turn,
    supplied_order_number,
    supplied_postcode,
)

RULES = TurnRules(answerable=frozenset({
    "track_order", "cancel_order", "change_order", "shipping_cost", "return_policy",
    "payment_methods", "delivery_time", "opening_hours", "pickup_point"}))
LEFT = {"order_task": None, "order_step": None}


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


@pytest.mark.parametrize(("text", "intent", "task"), [
    ("hvor er pakken min?", "track_order", "track"),
    ("jeg vil avbestille", "cancel_order", "cancel"),
    ("kan jeg endre leveringsadressen?", "change_order", "change"),
])
def test_an_order_question_without_a_number_is_answered_and_starts_the_order_task(
        text: str, intent: str, task: str) -> None:
    plan = plan_turn(turn(text, intent), RULES)
    assert plan.actions == [] and plan.reason is None  # the rule's answer asks for the number
    assert plan.slots == {"order_task": task, "order_step": "order_number", "topic": intent,
                          "awaiting_order_for": None}


def test_the_number_the_answer_asked_for_continues_the_task_not_a_hand_off() -> None:
    plan = plan_turn(in_task("det er 40918273", "inform_order_number", step="order_number"), RULES)
    assert plan.actions == ["action_order"] and plan.reason is None


def test_an_order_number_given_with_the_question_is_kept_for_the_task() -> None:
    message = turn("pakke 40918273 har ikke kommet", "track_order",
                   known={"order_number": "40918273"}, given={"order_number": "40918273"})
    plan = plan_turn(message, RULES)
    assert plan.actions == ["action_order"]  # verification starts at once
    assert plan.slots["order_number"] == "40918273" and plan.slots["order_task"] == "track"
    assert plan.slots["order_step"] is None


def test_an_order_number_given_earlier_starts_the_order_action_too() -> None:
    plan = plan_turn(turn("jeg vil avbestille", "cancel_order", known={"order_number": "40918273"}),
                     RULES)
    assert plan.actions == ["action_order"] and plan.slots["order_task"] == "cancel"


def test_a_bare_order_number_in_the_question_is_kept_too() -> None:
    plan = plan_turn(turn("vil avbestille NH-4091 8273", "cancel_order",
                          given={"phone": "4091 8273"}), RULES)
    assert plan.actions == ["action_order"]
    assert plan.slots["order_number"] == "40918273" and plan.slots["phone"] is None


def test_an_unsure_order_question_is_clarified_not_started() -> None:
    plan = plan_turn(turn("pakken?", "track_order", 0.4, ambiguous=True), RULES)
    assert plan.actions == [] and "order_task" not in plan.slots


def test_a_complaint_keeps_its_own_path() -> None:
    plan = plan_turn(turn("dette er uakseptabelt", "complain", known={"order_number": "40918273"}),
                     RULES)
    assert plan.actions == [] and "order_task" not in plan.slots


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


def test_an_order_question_among_several_with_its_number_is_looked_up_after_the_answers() -> None:
    questions = [{"text": "hvor er pakken", "intent": "track_order", "confidence": 0.9},
                 {"text": "hva koster frakt", "intent": "shipping_cost", "confidence": 0.9}]
    plan = plan_turn(turn("...", "track_order", questions=questions,
                          known={"order_number": "40918273"}), RULES)
    assert plan.actions == ["utter_shipping_cost", "action_order"]  # its question asks last
    assert plan.slots["order_task"] == "track" and plan.reason is None


def test_an_order_question_among_several_without_its_number_is_answered_in_turn() -> None:
    questions = [{"text": "hva koster frakt", "intent": "shipping_cost", "confidence": 0.9},
                 {"text": "hvordan avbestiller jeg", "intent": "cancel_order", "confidence": 0.9}]
    plan = plan_turn(turn("...", "shipping_cost", questions=questions), RULES)
    assert plan.actions == ["utter_shipping_cost", "utter_cancel_order", "utter_anything_else"]
    assert plan.slots["order_task"] == "cancel" and plan.slots["order_step"] == "order_number"


def test_not_what_i_meant_clarifies_and_forgets_the_topic() -> None:
    plan = plan_turn(turn("nei, det var ikke det jeg mente", "not_what_i_meant", topic="return_policy"),
                     RULES)
    assert plan.actions == ["action_clarify"] and plan.slots["topic"] is None


def test_the_story_around_a_question_is_not_a_second_question() -> None:
    questions = [{"text": "jeg vil slette kontoen min", "intent": "delete_data", "confidence": 0.99,
                  "asks": False},
                 {"text": "og hva koster frakt", "intent": "shipping_cost", "confidence": 0.9, "asks": True}]
    assert plan_turn(turn("...", "delete_data", 0.99, questions=questions), RULES).actions == []


# --- an order task under way ---

def in_task(text: str, intent: str | None = "inform_order_number", confidence: float = 0.95,
            task: str = "track", step: str | None = "order_number", **kw: Any) -> TurnInput:
    return turn(text, intent, confidence, order_task=task, order_step=step, **kw)


def test_the_order_number_asked_for_continues_the_task_whatever_the_nlu_calls_it() -> None:
    plan = plan_turn(in_task("det er 40918273", "deny", 0.3, ambiguous=True), RULES)
    assert plan.actions == ["action_order"] and plan.slots == {"order_number": "40918273"}


def test_an_order_number_with_a_space_is_read_whole_not_as_a_phone_number() -> None:
    plan = plan_turn(in_task("4091 8273", given={"phone": "4091 8273"}), RULES)
    assert plan.slots == {"order_number": "40918273", "phone": None}


def test_an_email_continues_the_task_even_read_as_a_request_for_a_person() -> None:
    plan = plan_turn(in_task("kari@example.no", "request_human", 0.17, step="contact",
                             given={"email": "kari@example.no"}), RULES)
    assert plan.actions == ["action_order"] and plan.slots == {"email": "kari@example.no"}


@pytest.mark.parametrize(("text", "given", "postcode"), [
    ("0555", {}, "0555"),
    ("postnummeret mitt er 5003", {}, "5003"),
    ("11455", {}, "11455"),
    ("114 55", {"postcode": "114 55"}, "114 55"),
])
def test_asked_for_the_email_or_postcode_four_or_five_digits_are_a_postcode(
        text: str, given: dict, postcode: str) -> None:
    message = in_task(text, step="contact", given=given)
    assert supplied_postcode(message) == postcode
    plan = plan_turn(message, RULES)
    assert plan.actions == ["action_order"] and plan.slots == {"postcode": postcode}


def test_not_asked_for_a_postcode_four_digits_are_none() -> None:
    assert supplied_postcode(in_task("0555", step="order_number")) is None
    assert supplied_postcode(turn("0555", "inform_order_number")) is None


def test_a_new_order_number_and_a_postcode_in_one_answer_are_both_read() -> None:
    plan = plan_turn(in_task("40918273 0555", step="contact"), RULES)
    assert plan.slots == {"order_number": "40918273", "postcode": "0555"}


def test_an_unsure_message_has_the_question_asked_again() -> None:
    plan = plan_turn(in_task("hmm vent litt", "greet_maybe", 0.3, ambiguous=True), RULES)
    assert plan.actions == ["action_order"] and plan.slots == {}


@pytest.mark.parametrize(("text", "intent"), [
    ("hva koster frakt?", "shipping_cost"),
    ("jeg vil snakke med et menneske", "request_human"),
    ("nei, glem det", "deny"),
    ("ja", "affirm"),  # a yes to "anything else?" after the answer that asked for the number
])
def test_a_clearly_different_message_leaves_the_task_and_is_answered_as_usual(
        text: str, intent: str) -> None:
    plan = plan_turn(in_task(text, intent, step="contact"), RULES)
    assert plan.actions == []  # the rules answer it
    assert {key: plan.slots[key] for key in LEFT} == LEFT


def test_another_order_question_switches_the_task_keeping_what_was_given() -> None:
    plan = plan_turn(in_task("jeg vil heller avbestille", "cancel_order", step="contact",
                             known={"order_number": "40918273"}), RULES)
    assert plan.actions == ["action_order"] and plan.slots["order_task"] == "cancel"


def test_details_answer_the_question_even_when_the_nlu_hears_another_order_topic() -> None:
    message = in_task("ordre 40918273, kari@example.no", "track_order", task="cancel", step="contact",
                      given={"order_number": "40918273", "email": "kari@example.no"})
    plan = plan_turn(message, RULES)
    assert plan.actions == ["action_order"] and "order_task" not in plan.slots


@pytest.mark.parametrize("intent", ["affirm", "deny"])
def test_yes_or_no_to_the_cancellation_goes_to_the_order_action(intent: str) -> None:
    plan = plan_turn(in_task("/" + intent, intent, 1.0, task="cancel", step="confirm"), RULES)
    assert plan.actions == ["action_order"]


@pytest.mark.parametrize(("text", "intent", "confidence"), [
    ("Storgata 5, 0155 Oslo", "out_of_scope", 0.22),
    ("Kiwi Majorstuen", "pickup_point", 0.63),
    ("kan jeg heller hente på Kiwi Majorstuen?", "pickup_point", 0.95),
])
def test_asked_for_a_new_address_or_pickup_point_the_answer_is_one(
        text: str, intent: str, confidence: float) -> None:
    plan = plan_turn(in_task(text, intent, confidence, task="change", step="new_delivery"), RULES)
    assert plan.actions == ["action_order"]


def test_asked_for_a_new_address_another_question_leaves_the_task() -> None:
    plan = plan_turn(in_task("hva koster frakt?", "shipping_cost", 0.95, task="change",
                             step="new_delivery"), RULES)
    assert plan.actions == [] and plan.slots["order_task"] is None


@pytest.mark.parametrize(("task", "reason"), [
    ("track", "late_delivery"), ("cancel", "cancellation"), ("change", "order_change")])
def test_yes_to_the_person_offered_hands_over_with_the_task_as_reason(task: str, reason: str) -> None:
    plan = plan_turn(in_task("ja takk", "affirm", task=task, step="person"), RULES)
    assert plan.actions == ["action_handoff"] and plan.reason == reason
    assert plan.slots == LEFT


def test_no_to_the_person_offered_asks_if_there_is_anything_else() -> None:
    plan = plan_turn(in_task("nei takk", "deny", step="person"), RULES)
    assert plan.actions == ["utter_anything_else"] and plan.slots == LEFT


def test_after_the_person_offered_a_new_question_is_answered_as_usual() -> None:
    plan = plan_turn(in_task("hva koster frakt?", "shipping_cost", step="person"), RULES)
    assert plan.actions == [] and plan.slots["order_task"] is None
    assert plan.slots["topic"] == "shipping_cost"


@pytest.mark.parametrize(("text", "intent"), [
    ("ha det bra", "goodbye"), ("takk for hjelpen, ha det bra", "goodbye"),
    ("tack, det var allt", "thank"), ("det var fint, hej", "greet"),
])
def test_a_goodbye_after_an_answer_is_not_read_as_more_about_the_topic(text: str, intent: str) -> None:
    """The "det" in "ha det bra" leans on nothing: the answer is not given again, even when
    the NLU ranks the topic just answered near the top."""
    ranking = [{"name": intent, "confidence": 0.9}, {"name": "shipping_cost", "confidence": 0.05}]
    plan = plan_turn(turn(text, intent, 0.9, topic="shipping_cost", ranking=ranking), RULES)
    assert plan.actions == []
    # a short "and ...?" that the NLU finds near the topic still continues it
    near = [{"name": "delivery_time", "confidence": 0.5}, {"name": "shipping_cost", "confidence": 0.4}]
    plan = plan_turn(turn("og det til Tromsø?", "delivery_time", 0.5, ambiguous=True,
                          topic="shipping_cost", ranking=near), RULES)
    assert plan.actions == ["utter_shipping_cost", "utter_anything_else"]
