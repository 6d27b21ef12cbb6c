"""The hand-off summary the service writes for an agent, in the agent's console language.

The bot's own summary is machine text in English ("Customer writes nb; hand-off because:
abuse. ..."), kept as `bot_summary` for helpdesks. An agent reads this one instead, written
from the escalation's structured fields with the templates of content/console.yml (`needs`,
`summaries`): the customer's need in one sentence (from the reason, and the topics the bot did
not answer), the facts the customer gave and the bot verified, the topics, and what the bot
already answered, so that the agent neither asks again nor repeats it. A part without
anything to say is left out, never written as "None".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from api.models import Escalation
from api.texts import console_name, console_summary, console_text
from core.content import CONTENT_DIR, ContentError
from core.vocabulary import DETAIL_SLOTS

# the verified order's facts a summary names, in this order; the tracking link (a link, in the
# console's order panel) and the bot's note of what it could not check (English, in the panel)
# are left to the panel
ORDER_FACTS = ("verified_order", "order_status", "carrier", "tracking_number",
               "expected_delivery", "pickup_point", "pickup_deadline", "payment_method")
# facts whose values are the order system's words, named in the agent's language
NAMED_VALUES = {"order_status": "order_statuses", "payment_method": "payment_methods"}


def written_summary(language: str, reason: str, topics: Sequence[str],
                    details: Mapping[str, Any], answered: Sequence[str] = (),
                    bot_summary: str = "", customer_language: Optional[str] = None,
                    content_dir: Path = CONTENT_DIR) -> str:
    """The summary in console language `language`, from an escalation's fields."""
    def text(kind: str, key: str) -> str:
        return console_text(kind, key, language, content_dir)

    def names(keys: Sequence[str]) -> str:
        return _listed([console_name("topics", key, language, content_dir) for key in keys],
                       text("summaries", "and"))

    open_topics = [topic for topic in topics if topic not in answered]
    about = text("summaries", "about").format(topics=names(open_topics)) if open_topics else ""
    sentences = [_need(reason, bot_summary, customer_language, content_dir, language)
                 .format(about=about)]
    facts = _facts(details, language, content_dir)
    if facts:
        sentences.append(text("summaries", "facts").format(facts=", ".join(facts)))
    if topics:
        sentences.append(text("summaries", "topics").format(topics=names(topics)))
    if answered:
        sentences.append(text("summaries", "answered").format(topics=names(answered)))
    return " ".join(sentences)


def for_agent(escalation: Escalation, language: str) -> str:
    """The escalation's summary for an agent reading the console in `language`."""
    return written_summary(language, escalation.reason, escalation.topics or [],
                           escalation.details or {}, escalation.answered or [],
                           escalation.summary or "", escalation.language)


def _need(reason: str, bot_summary: str, customer_language: Optional[str],
          content_dir: Path, language: str) -> str:
    """The need sentence's template: the reason's, or the service's own hand-off's (the bot
    was down: its stored summary is the service's), or a general one for a new reason."""
    if customer_language and bot_summary == console_summary(
            "bot_unavailable", content_dir, language=customer_language):
        return console_text("needs", "bot_unavailable", language, content_dir)
    try:
        return console_text("needs", reason, language, content_dir)
    except ContentError:
        return console_text("needs", "other", language, content_dir)


def _facts(details: Mapping[str, Any], language: str, content_dir: Path) -> list[str]:
    """"label value" of each fact: the verified order's first, then what the customer gave
    (their order number only when it is not the verified one)."""
    verified = _shown(details.get("verified_order"))
    facts = []
    for key in ORDER_FACTS:
        value = _shown(details.get(key))
        if value is None:
            continue
        if key in NAMED_VALUES:
            value = console_name(NAMED_VALUES[key], value.replace(" ", "_"), language,
                                 content_dir)
        fact = f"{_in_sentence(console_text('order', key, language, content_dir))} {value}"
        if key == "verified_order":
            fact += f" ({console_text('summaries', 'verified', language, content_dir)})"
        facts.append(fact)
    for key in DETAIL_SLOTS:
        value = _shown(details.get(key))
        if value is None or (key == "order_number" and verified is not None
                             and _digits(value) == _digits(verified)):
            continue
        facts.append(f"{_in_sentence(console_text('details', key, language, content_dir))} "
                     f"{value}")
    return facts


def _shown(value: Any) -> Optional[str]:
    """A fact's value as text; None for nothing, or for a structure a sentence cannot hold."""
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = str(value).strip()
    return text or None


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number)


def _in_sentence(label: str) -> str:
    """A label as it reads inside a sentence: "E-post" -> "e-post" (not "NH" or "PIN")."""
    return label[:1].lower() + label[1:] if label[1:2].islower() or label[1:2] == "-" else label


def _listed(items: Sequence[str], and_word: str) -> str:
    """"a", "a and b", "a, b and c"."""
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} {and_word} {items[-1]}"
