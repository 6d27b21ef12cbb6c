"""The scorecard's scoring and aggregate, on Rasa event dicts built in the test."""

from __future__ import annotations

from typing import Any, Dict, List

from core.content import load_content
from core.principles import DEFAULT_PRINCIPLES_CONFIG, principles_config
from core.scorecard import aggregate, score_conversation


def user(text: str, intent: str, confidence: float = 0.95) -> Dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {
        "text": text, "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence},
                           {"name": "other", "confidence": 1 - confidence}]}}


def bot(response: str, text: str) -> Dict[str, Any]:
    return {"event": "bot", "text": text, "metadata": {"utter_action": response}}


def action(name: str) -> Dict[str, Any]:
    return {"event": "action", "name": name}


def answered_conversation(check: bool) -> List[Dict[str, Any]]:
    welcome = load_content()["welcome_prefix"]["nb"]
    events = [action("action_listen"), user("hva koster frakt?", "shipping_cost"),
              action("utter_shipping_cost"), bot("utter_shipping_cost", f"{welcome} Frakt ...")]
    if check:
        events += [action("utter_anything_else"), bot("utter_anything_else", "Noe mer?")]
    return events


def test_an_answer_with_a_check_and_a_welcome_scores_full() -> None:
    card = score_conversation("c1", answered_conversation(check=True))
    assert card.welcomed is True and card.checked_after_answer is True
    assert card.handed_off is False and card.resolved_without_handoff is True
    assert card.score == 1.0


def test_an_answer_without_a_check_fails_that_principle() -> None:
    card = score_conversation("c2", answered_conversation(check=False))
    assert card.checked_after_answer is False
    assert card.score == 0.5


def test_an_answer_handed_to_a_person_in_the_same_turn_is_not_asked_anything_else() -> None:
    events = [user("slett kontoen min", "delete_data"), action("utter_delete_data"),
              bot("utter_delete_data", "Du kan be om ..."), action("action_handoff"),
              bot("utter_handoff_erasure_request", "Jeg har også sendt ...")]
    assert score_conversation("c5", events).checked_after_answer is None
    # the same answer left with the bot still needs the check
    assert score_conversation("c6", events[:3]).checked_after_answer is False


def test_an_unsure_message_answered_without_clarifying_is_a_guess() -> None:
    events = [user("noe med pakken", "track_order", confidence=0.3), action("utter_track_order"),
              bot("utter_track_order", "Sporing ...")]
    assert score_conversation("c3", events).clarified_when_ambiguous is False


def test_the_detail_the_bot_asked_for_is_an_answer_whatever_the_nlu_calls_it() -> None:
    """An e-mail or number given to the order question is read by the policy as that detail
    (however unsure the NLU); an unsure message that gives none is still a guess."""
    asked = [user("hvor er pakken min?", "track_order"), action("action_order"),
             bot(None, "Hva er ordrenummeret?")]
    for answer in ("kari.nordmann@example.no", "12345678", "det er 0555", "0555"):
        events = [*asked, user(answer, "inform_email", confidence=0.3), action("action_order")]
        assert score_conversation("c7", events).clarified_when_ambiguous is None, answer
    unsure = [*asked, user("hmm vet ikke helt", "cancel_order", confidence=0.3), action("action_order")]
    assert score_conversation("c8", unsure).clarified_when_ambiguous is False
    # the same e-mail, unsure and out of the blue, was not asked for
    blue = [user("kari.nordmann@example.no", "inform_email", confidence=0.3),
            action("utter_track_order"), bot("utter_track_order", "Sporing ...")]
    assert score_conversation("c9", blue).clarified_when_ambiguous is False


def test_a_handoff_without_a_reference_is_not_owned() -> None:
    events = [user("menneske takk", "request_human"), action("action_handoff"),
              bot("utter_handoff_request_human", "Selvsagt!")]
    card = score_conversation("c4", events)
    assert card.handed_off is True
    assert card.handoff_owned_with_summary is False
    assert card.expectations_set is False


def test_aggregate_counts_only_where_a_principle_applied() -> None:
    cards = [score_conversation("a", answered_conversation(True)).as_dict(),
             score_conversation("b", answered_conversation(False)).as_dict(),
             {"welcomed": None, "score": None}]
    summary = aggregate(cards)
    assert summary["conversations"] == 3
    assert summary["checked_after_answer"] == 0.5
    assert summary["welcomed"] == 1.0
    assert summary["mean_score"] == 0.75
    assert summary["expectations_set"] is None


def test_the_bots_config_overrides_the_defaults() -> None:
    config = principles_config()
    assert set(DEFAULT_PRINCIPLES_CONFIG) <= set(config)
    assert config["max_clarifications"] == 2 and config["abuse_limit"] == 3
