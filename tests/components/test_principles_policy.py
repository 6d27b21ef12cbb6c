"""PrinciplesPolicy on constructed trackers: one test per rule and per threshold edge."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.components.principles_policy import PrinciplesPolicy, PrinciplesPolicyError
from tools.build_domain import build_domain

DOMAIN_DIR = build_domain()


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(DOMAIN_DIR))


def policy(model_storage: LocalModelStorage, resource: Resource,
           execution_context: ExecutionContext, **config: Any) -> PrinciplesPolicy:
    return PrinciplesPolicy(config, model_storage, resource, execution_context)


def user(intent: str, confidence: float = 0.95, second: float = 0.01, text: str = "x",
         second_intent: str = "shipping_cost") -> List[Event]:
    ranking = [{"name": intent, "confidence": confidence},
               {"name": second_intent, "confidence": second}]
    parse = {"text": text, "intent": {"name": intent, "confidence": confidence},
             "intent_ranking": ranking, "entities": []}
    return [UserUttered(text, parse["intent"], [], parse_data=parse)]


def bot(*actions: str) -> List[Event]:
    return [ActionExecuted(a) for a in actions] + [ActionExecuted("action_listen")]


def tracker(*turns: List[Event], slots: Optional[Dict[str, Any]] = None) -> DialogueStateTracker:
    events: List[Event] = [ActionExecuted("action_session_start"), ActionExecuted("action_listen")]
    for name, value in (slots or {}).items():
        events.append(SlotSet(name, value))
    for turn in turns:
        events.extend(turn)
    return DialogueStateTracker.from_events("c1", events)


def predicted(p: PrinciplesPolicy, t: DialogueStateTracker, domain: Domain) -> Optional[str]:
    prediction = p.predict_action_probabilities(t, domain)
    if max(prediction.probabilities) == 0:
        return None
    return domain.action_names_or_texts[prediction.max_confidence_index]


def reason(p: PrinciplesPolicy, t: DialogueStateTracker, domain: Domain) -> Optional[str]:
    events = p.predict_action_probabilities(t, domain).optional_events
    return next((e.value for e in events if isinstance(e, SlotSet)), None)


@pytest.fixture
def principles(model_storage, resource, execution_context) -> PrinciplesPolicy:
    return policy(model_storage, resource, execution_context)


def test_confident_clear_message_is_left_to_the_rules(principles, domain) -> None:
    assert predicted(principles, tracker(user("track_order", 0.9, 0.05)), domain) is None


def test_confidence_just_below_threshold_asks_a_clarifying_question(principles, domain) -> None:
    assert predicted(principles, tracker(user("track_order", 0.49, 0.1)), domain) == "action_clarify"


def test_confidence_at_threshold_is_answered(principles, domain) -> None:
    assert predicted(principles, tracker(user("track_order", 0.5, 0.3)), domain) is None


def test_two_intents_too_close_ask_a_clarifying_question(principles, domain) -> None:
    t = tracker(user("track_order", 0.6, 0.51))
    assert predicted(principles, t, domain) == "action_clarify"


def test_margin_at_threshold_is_answered(principles, domain) -> None:
    assert predicted(principles, tracker(user("track_order", 0.6, 0.5)), domain) is None


def test_broad_request_is_clarified_however_confident(principles, domain) -> None:
    t = tracker(user("unclear_problem", 0.99))
    assert predicted(principles, t, domain) == "action_clarify"


def test_button_choice_is_never_second_guessed(principles, domain) -> None:
    t = tracker(user("unclear_problem", 0.99), bot("action_clarify"),
                user("track_order", 1.0, text="/track_order"))
    assert predicted(principles, t, domain) is None


def test_small_talk_is_never_clarified(principles, domain) -> None:
    assert predicted(principles, tracker(user("greet", 0.3, 0.25)), domain) is None


def test_uncertain_yes_right_after_a_yes_no_question_is_taken_as_yes(principles, domain) -> None:
    t = tracker(user("shipping_cost"), bot("utter_shipping_cost", "utter_anything_else"),
                user("affirm", 0.4, 0.3))
    assert predicted(principles, t, domain) is None


def test_uncertain_yes_out_of_the_blue_is_clarified(principles, domain) -> None:
    assert predicted(principles, tracker(user("affirm", 0.4, 0.3)), domain) == "action_clarify"


def test_something_else_asks_in_own_words(principles, domain) -> None:
    t = tracker(user("unclear_problem"), bot("action_clarify"),
                user("something_else", 1.0, text="/something_else"))
    assert predicted(principles, t, domain) == "utter_ask_rephrase"


def test_second_clarification_in_a_row_is_still_asked(principles, domain) -> None:
    t = tracker(user("unclear_problem"), bot("action_clarify"), user("track_order", 0.3, 0.28))
    assert predicted(principles, t, domain) == "action_clarify"


def test_two_failed_clarifications_never_become_a_third(principles, domain) -> None:
    t = tracker(user("unclear_problem"), bot("action_clarify"),
                user("something_else", 1.0, text="/something_else"), bot("utter_ask_rephrase"),
                user("track_order", 0.3, 0.28))
    assert predicted(principles, t, domain) == "action_handoff"
    assert reason(principles, t, domain) == "clarification_failed"


def test_an_answer_in_between_resets_the_clarification_count(principles, domain) -> None:
    t = tracker(user("unclear_problem"), bot("action_clarify"),
                user("track_order", 1.0, text="/track_order"),
                bot("utter_track_order", "utter_anything_else"),
                user("unclear_problem"))
    assert predicted(principles, t, domain) == "action_clarify"


def test_clarification_limit_is_configurable(model_storage, resource, execution_context,
                                              domain) -> None:
    strict = policy(model_storage, resource, execution_context, max_clarifications=1)
    t = tracker(user("unclear_problem"), bot("action_clarify"), user("unclear_problem"))
    assert predicted(strict, t, domain) == "action_handoff"


def test_first_and_second_insult_are_left_to_the_calm_reply(principles, domain) -> None:
    assert predicted(principles, tracker(user("insult")), domain) is None
    t = tracker(user("insult"), bot("utter_insult"), user("insult"))
    assert predicted(principles, t, domain) is None


def test_third_insult_hands_off_as_abusive(principles, domain) -> None:
    t = tracker(user("insult"), bot("utter_insult"), user("insult"), bot("utter_insult"),
                user("insult"))
    assert predicted(principles, t, domain) == "action_handoff"
    assert reason(principles, t, domain) == "abuse"


def test_complaint_without_order_number_asks_for_it(principles, domain) -> None:
    t = tracker(user("complain"), [ActionExecuted("utter_complain")])
    assert predicted(principles, t, domain) == "utter_ask_order_number"


def test_complaint_with_order_number_hands_off_at_once(principles, domain) -> None:
    t = tracker(user("complain"), [ActionExecuted("utter_complain")],
                slots={"order_number": "10483921"})
    assert predicted(principles, t, domain) == "action_handoff"
    assert reason(principles, t, domain) == "complaint"


def test_whatever_answers_the_order_question_leads_to_the_hand_off(principles, domain) -> None:
    t = tracker(user("complain"), bot("utter_complain", "utter_ask_order_number"),
                user("deny", 0.4, 0.3))
    assert predicted(principles, t, domain) == "action_handoff"
    assert reason(principles, t, domain) == "complaint"


def test_after_its_own_action_the_customer_has_the_turn(principles, domain) -> None:
    t = tracker(user("unclear_problem"), [ActionExecuted("action_clarify")])
    assert predicted(principles, t, domain) == "action_listen"


def test_after_a_rule_answer_it_stays_silent(principles, domain) -> None:
    t = tracker(user("shipping_cost"), [ActionExecuted("utter_shipping_cost")])
    assert predicted(principles, t, domain) is None


def test_training_fails_clearly_when_the_domain_lacks_its_actions(principles) -> None:
    with pytest.raises(PrinciplesPolicyError, match="action_clarify"):
        principles.train([], Domain.from_yaml("version: '3.1'\nintents: [greet]"))


def test_persisted_policy_loads_with_the_same_decisions(model_storage, resource,
                                                        execution_context, domain) -> None:
    configured = policy(model_storage, resource, execution_context, min_confidence=0.7)
    configured.train([], domain)
    loaded = PrinciplesPolicy.load({"min_confidence": 0.7}, model_storage, resource,
                                   execution_context)
    t = tracker(user("track_order", 0.65, 0.1))
    assert predicted(loaded, t, domain) == predicted(configured, t, domain) == "action_clarify"


def planned(p: PrinciplesPolicy, t: DialogueStateTracker, domain: Domain) -> Optional[List[str]]:
    events = p.predict_action_probabilities(t, domain).events
    return next((e.value for e in events if isinstance(e, SlotSet) and e.key == "turn_plan"), None)


def test_a_promise_made_is_kept_when_the_number_comes(principles, domain) -> None:
    t = tracker(user("track_order"), bot("utter_track_order", "utter_anything_else"),
                user("deny", 0.4, 0.3, text="40918273"), slots={"awaiting_order_for": "late_delivery"})
    assert predicted(principles, t, domain) == "action_handoff"
    assert reason(principles, t, domain) == "late_delivery"


def test_a_turn_with_several_answers_follows_its_plan_to_the_end(principles, domain) -> None:
    plan = ["utter_shipping_cost", "utter_return_policy", "utter_anything_else"]
    t = tracker(user("shipping_cost"), [ActionExecuted("utter_shipping_cost")], slots={"turn_plan": plan})
    assert predicted(principles, t, domain) == "utter_return_policy"
    t = tracker(user("shipping_cost"), [ActionExecuted(a) for a in plan], slots={"turn_plan": plan})
    assert predicted(principles, t, domain) == "action_listen"


def test_two_questions_in_one_message_are_planned_as_two_answers(principles, domain) -> None:
    events = user("shipping_cost", 0.55, 0.4, text="hva koster frakt, og hvordan returnerer jeg noe?")
    events[0].parse_data["questions"] = [
        {"text": "hva koster frakt", "intent": "shipping_cost", "confidence": 0.9},
        {"text": "hvordan returnerer jeg noe", "intent": "return_policy", "confidence": 0.85}]
    t = tracker(events)
    assert predicted(principles, t, domain) == "utter_shipping_cost"
    assert planned(principles, t, domain) == [
        "utter_shipping_cost", "utter_return_policy", "utter_anything_else"]


def test_a_rule_answer_clears_a_stale_plan_and_remembers_the_topic(principles, domain) -> None:
    t = tracker(user("return_policy"), slots={"turn_plan": ["utter_x"]})
    events = principles.predict_action_probabilities(t, domain).events
    changed = {e.key: e.value for e in events if isinstance(e, SlotSet)}
    assert changed["turn_plan"] is None and changed["topic"] == "return_policy"


def test_a_follow_up_answer_is_checked_even_without_its_plan(principles, domain) -> None:
    t = tracker(user("shipping_cost"), [ActionExecuted("utter_return_policy__cost")])
    assert predicted(principles, t, domain) == "utter_anything_else"


def test_only_the_first_answer_of_a_planned_turn_carries_the_welcome(principles, domain) -> None:
    plan = ["utter_shipping_cost", "utter_return_policy", "utter_anything_else"]
    t = tracker(user("shipping_cost"), [ActionExecuted("utter_shipping_cost")],
                slots={"turn_plan": plan, "welcomed": False})
    events = principles.predict_action_probabilities(t, domain).optional_events
    assert any(isinstance(e, SlotSet) and e.key == "welcomed" and e.value is True for e in events)


def test_an_order_question_starts_the_order_task(principles, domain) -> None:
    t = tracker(user("track_order", text="hvor er pakken min?"))
    assert predicted(principles, t, domain) is None  # the rule's answer asks for the number
    events = principles.predict_action_probabilities(t, domain).events
    changed = {e.key: e.value for e in events if isinstance(e, SlotSet)}
    assert changed["order_task"] == "track" and changed["order_step"] == "order_number"
    t = tracker(user("track_order", text="hvor er pakken min?"), slots={"order_number": "40918273"})
    assert predicted(principles, t, domain) == "action_order"


def test_the_answer_to_the_order_question_continues_the_task(principles, domain) -> None:
    # whatever the NLU calls an e-mail alone, the detail it gives is what counts
    answer = user("request_human", 0.17, 0.1, text="kari@example.no")
    answer[0].parse_data["entities"] = [{"entity": "email", "value": "kari@example.no"}]
    t = tracker(user("track_order"), bot("action_order"), answer,
                slots={"order_task": "track", "order_step": "contact"})
    assert predicted(principles, t, domain) == "action_order"


def test_a_finished_order_task_is_checked_with_anything_else(principles, domain) -> None:
    t = tracker(user("track_order"), [ActionExecuted("action_order")])
    assert predicted(principles, t, domain) == "utter_anything_else"
    t = tracker(user("track_order"), [ActionExecuted("action_order"), ActionExecuted("utter_anything_else")])
    assert predicted(principles, t, domain) == "action_listen"


def test_an_order_task_waiting_for_an_answer_gives_the_customer_the_turn(principles, domain) -> None:
    t = tracker(user("track_order"), [ActionExecuted("action_order")],
                slots={"order_task": "track", "turn_plan": ["action_order"]})
    assert predicted(principles, t, domain) == "action_listen"
