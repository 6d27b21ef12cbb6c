"""PrinciplesPolicy's settings, shared with the scorecard so that the card judges
conversations by the same thresholds as the bot that held them.

The policy (bot/components/principles_policy.py) returns these defaults from
`get_default_config()`; bot/config.yml overrides them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Dict

import yaml

from core import vocabulary as v

CONFIG_FILE = Path(__file__).resolve().parents[1] / "bot" / "config.yml"

DEFAULT_PRINCIPLES_CONFIG: Dict[str, Any] = {
    # above RulePolicy (6): where this policy speaks, it wins
    "priority": 7,
    # top intent confidence below this asks a clarifying question
    "min_confidence": 0.5,
    # top two intents closer than this asks a clarifying question
    "min_margin": 0.1,
    # intents that are a request too broad to answer ("I have a problem")
    "broad_intents": [v.BROAD_INTENT],
    # intents never worth a clarifying question (small talk, rudeness, a person)
    "never_clarify": [*v.PLAIN_SMALL_TALK, v.ABUSE_INTENT, v.REQUEST_HUMAN_INTENT,
                      v.NONE_OF_THESE_INTENT],
    # yes/no answers: taken as they are only right after a yes/no question
    "yes_no_intents": list(v.YES_NO_INTENTS),
    "yes_no_questions": [v.UTTER_ANYTHING_ELSE, "utter_bot_challenge", "utter_thank"],
    # the customer's answer to a clarifying question meaning "none of these"
    "none_of_these_intent": v.NONE_OF_THESE_INTENT,
    # clarifying questions in a row before the assistant hands over instead
    "max_clarifications": 2,
    # rude messages in a conversation; this many ends in an abuse hand-off
    "abuse_intent": v.ABUSE_INTENT,
    "abuse_limit": 3,
    # hand-offs that first ask for the order number when it is not known
    "ask_order_number_for": [v.COMPLAINT_INTENT],
    "order_number_slot": v.SLOT_ORDER_NUMBER,
    # a question of a message with several is answered when the NLU is this sure of it
    "min_question_confidence": 0.6,
    # a short message this sure of another topic is not a follow-up of the current one
    "new_topic_confidence": 0.8,
    # questions answered from one message at most
    "max_questions": 3,
}


def principles_config(path: Path = CONFIG_FILE) -> Dict[str, Any]:
    """The defaults with bot/config.yml's PrinciplesPolicy settings on top (read once per
    process: every hand-off scores its conversation with them)."""
    return dict(_read_principles_config(path))


@lru_cache(maxsize=None)
def _read_principles_config(path: Path) -> Dict[str, Any]:
    config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    configured: Dict[str, Any] = next((p for p in config.get("policies", [])
                       if str(p.get("name", "")).endswith("PrinciplesPolicy")), {})
    return {**DEFAULT_PRINCIPLES_CONFIG,
            **{key: value for key, value in configured.items() if key != "name"}}
