"""When is a message too ambiguous to answer without asking? Shared by the dialogue
policy (which acts on it) and the scorecard (which checks the bot did)."""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence, Text


def is_ambiguous(
    parse_data: Dict[Text, Any],
    min_confidence: float,
    min_margin: float,
    broad_intents: Sequence[Text] = (),
    never_clarify: Sequence[Text] = (),
    yes_no_intents: Sequence[Text] = (),
    yes_no_questions: Sequence[Text] = (),
    previous_bot_action: Optional[Text] = None,
) -> bool:
    """Whether answering this message would be guessing at what the customer means.

    Broad requests always are; small talk and a request for a person never are; a yes or
    no is taken as it is right after a yes/no question; anything else is ambiguous when
    the top intent is unsure or too close to the runner-up. Button payloads ("/intent")
    are the customer's explicit choice.
    """
    intent = (parse_data.get("intent") or {}).get("name")
    if not intent or (parse_data.get("text") or "").startswith("/"):
        return False
    if intent in broad_intents:
        return True
    if intent in never_clarify:
        return False
    if intent in yes_no_intents and previous_bot_action in yes_no_questions:
        return False
    ranking = parse_data.get("intent_ranking") or []
    top = (parse_data.get("intent") or {}).get("confidence", 0.0)
    second = ranking[1]["confidence"] if len(ranking) > 1 else 0.0
    margin = round(top - second, 6)  # 0.6 - 0.5 is 0.0999... in floating point
    return top < min_confidence or margin < min_margin


CONFIG_KEYS = ("min_confidence", "min_margin", "broad_intents", "never_clarify",
               "yes_no_intents", "yes_no_questions")


def ambiguous_under(
    config: Dict[Text, Any], parse_data: Dict[Text, Any],
    previous_bot_action: Optional[Text] = None,
) -> bool:
    """`is_ambiguous` with the thresholds of a PrinciplesPolicy configuration."""
    return is_ambiguous(parse_data, previous_bot_action=previous_bot_action,
                        **{key: config[key] for key in CONFIG_KEYS})
