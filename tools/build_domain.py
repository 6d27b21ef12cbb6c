"""Builds Rasa's domain: bot/domain/*.yml plus responses generated from content/*.yml.

content/*.yml hold every text the bot says, per language, in a shape a non-developer
can edit (bot/content.py reads them). Each key becomes `utter_<key>` with one variation
per language, chosen by the `language` slot; Norwegian is also the variation used
while no language is known yet.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any, Dict, List, Text

import yaml

from core.content import DEFAULT_LANGUAGE, LANGUAGES, ContentError, Texts, load_content
from core.followups import ASPECT_SEPARATOR
from core.vocabulary import CLOSING_TEXTS, ENDS_CONVERSATION, PLAIN_SMALL_TALK

ROOT = Path(__file__).resolve().parents[1]


# Texts the action server uses as parts of messages, not responses of their own.
ACTION_ONLY_TEXTS = {"welcome_prefix", "button_something_else", "button_person"}
# Replies that never open a conversation, so they never carry the welcome.
NOT_OPENING = {
    *PLAIN_SMALL_TALK, "anything_else", "ask_what_else",
    "handoff_context", "handoff_queue", "handoff_closed", "handoff_no_numbers",
    "handoff_no_numbers_closed", "ask_order_number", "handoff_queue_no_estimate",
    "handoff_queue_nobody", "handoff_taken", "clarify_correction",
    # always after the answer on deleting personal data (data/rules/faq.yml)
    "offer_erasure", "handoff_erasure_request",
}


def opens_conversation(key: Text) -> bool:
    """Whether the reply can be the bot's first, and so carries the welcome.

    Follow-up answers (`<topic>__<aspect>`) always come after the topic's own answer.
    """
    return key not in NOT_OPENING and ASPECT_SEPARATOR not in key


def _condition(language: Text, welcomed: bool) -> List[Dict[Text, Any]]:
    return [
        {"type": "slot", "name": "language", "value": language},
        {"type": "slot", "name": "welcomed", "value": welcomed},
    ]


def response_variations(
    key: Text, by_language: Dict[Text, Text], welcome: Dict[Text, Text]
) -> List[Dict[Text, Any]]:
    """One variation per language and welcome state, plus a default (no language known).

    While the `welcomed` slot is false (the bot has not spoken yet), a reply that can
    open the conversation starts with the welcome, so that the first reply greets.
    """
    variations: List[Dict[Text, Any]] = []
    for lang in LANGUAGES:
        opening = by_language[lang]
        if opens_conversation(key):
            opening = f"{welcome[lang]} {by_language[lang]}"
        variations.append({"text": opening, "condition": _condition(lang, False)})
        variations.append({"text": by_language[lang], "condition": _condition(lang, True)})
    variations.append({"text": by_language[DEFAULT_LANGUAGE]})
    if key in CLOSING_TEXTS:  # the service asks for a rating after it (CSAT)
        variations = [{**variation, "custom": dict(ENDS_CONVERSATION)} for variation in variations]
    return variations


def build_responses(texts: Texts) -> Dict[Text, Any]:
    return {
        "version": "3.1",
        "responses": {
            f"utter_{key}": response_variations(key, t, texts["welcome_prefix"])
            for key, t in sorted(texts.items())
            if key not in ACTION_ONLY_TEXTS
        },
    }


def build_domain(out_dir: Path = ROOT / "build" / "domain") -> Path:
    """Write the full domain directory that `rasa train --domain` reads."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    for part in sorted((ROOT / "bot" / "domain").glob("*.yml")):
        shutil.copy(part, out_dir / part.name)
    responses = build_responses(load_content())
    header = "# Generated from content/*.yml by tools/build_domain.py: edit those files instead.\n"
    (out_dir / "responses.yml").write_text(
        header + yaml.safe_dump(responses, allow_unicode=True, sort_keys=False, width=1000),
        encoding="utf-8",
    )
    return out_dir


if __name__ == "__main__":
    try:
        print(f"domain written to {build_domain().relative_to(ROOT)}")
    except ContentError as error:
        sys.exit(f"content error: {error}")
