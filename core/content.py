"""Loads what the bot says from content/*.yml, checked to have every language.

content/ is the one place a non-developer edits: texts per key with nb (Norway),
da (Denmark) and sv (Sweden). The domain's responses are generated from it
(tools/build_domain.py), the action server reads it for button labels and day names,
and the escalation service for its notices.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Dict, Optional, Text

import yaml

from core.languages import DEFAULT_LANGUAGE, LANGUAGES

ROOT = Path(__file__).resolve().parents[1]
CONTENT_DIR = ROOT / "content"
# the bot's responses (tools/build_domain.py makes them utter_<key>)
RESPONSE_FILES = ("faq.yml", "aspects.yml", "dialogue.yml", "handoff.yml")
# what the escalation service itself tells the customer
NOTICE_FILE = "notices.yml"
# the words of dates and times (day names, "today", "tomorrow")
CALENDAR_FILE = "calendar.yml"
# what the bot says about a customer's order: templates the action server fills in
# (actions/orders/describe.py), so not responses of the domain
ORDERS_FILE = "orders.yml"

Texts = Dict[Text, Dict[Text, Text]]


class ContentError(ValueError):
    """A content file is missing a language or has a malformed entry."""


def read_texts(path: Path, texts: Texts | None = None) -> Texts:
    """The texts of one content file, added to `texts`; every key needs every language."""
    texts = {} if texts is None else texts
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for key, by_language in entries.items():
        if key in texts:
            raise ContentError(f"{path.name}: '{key}' is defined twice")
        if not isinstance(by_language, dict):
            raise ContentError(f"{path.name}: '{key}' must map nb, da and sv to texts")
        missing = [lang for lang in LANGUAGES if not str(by_language.get(lang) or "").strip()]
        if missing:
            raise ContentError(f"{path.name}: '{key}' has no text for {', '.join(missing)}")
        texts[key] = {lang: str(by_language[lang]).strip() for lang in LANGUAGES}
    return texts


@lru_cache(maxsize=None)
def load_content(content_dir: Path = CONTENT_DIR) -> Texts:
    """All response texts by key and language."""
    texts: Texts = {}
    for name in RESPONSE_FILES:
        read_texts(content_dir / name, texts)
    return texts


@lru_cache(maxsize=None)
def topic_labels(content_dir: Path = CONTENT_DIR) -> Texts:
    """Customer words for each topic (intent), used on clarifying buttons."""
    return read_texts(content_dir / "topics.yml")


@lru_cache(maxsize=None)
def notices(content_dir: Path = CONTENT_DIR) -> Texts:
    """What the escalation service tells the customer (agent joined, closed, ...)."""
    return read_texts(content_dir / NOTICE_FILE)


@lru_cache(maxsize=None)
def calendar_words(content_dir: Path = CONTENT_DIR) -> Texts:
    """Day names (comma-separated, Monday first) and "today"/"tomorrow"/"at" per language."""
    return read_texts(content_dir / CALENDAR_FILE)


@lru_cache(maxsize=None)
def order_texts(content_dir: Path = CONTENT_DIR) -> Texts:
    """Order status, verification, cancellation and change texts with {placeholders}."""
    return read_texts(content_dir / ORDERS_FILE)


def in_language(by_language: Dict[Text, Text], language: Optional[Text]) -> Text:
    """The text in the language, or in the default language when it is unknown."""
    return by_language.get(language or DEFAULT_LANGUAGE) or by_language[DEFAULT_LANGUAGE]


def notice(key: Text, language: Optional[Text], **values: object) -> Text:
    """One of the service's notices in the language, with its {placeholders} filled in."""
    return in_language(notices()[key], language).format(**values)
