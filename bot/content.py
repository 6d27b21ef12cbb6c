"""Loads what the bot says from content/*.yml, checked to have every language.

content/ is the one place a non-developer edits: texts per key with nb (Norway),
da (Denmark) and sv (Sweden). The domain's responses are generated from it
(tools/build_domain.py) and the action server reads it for button labels.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Dict, Text

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONTENT_DIR = ROOT / "content"
LANGUAGES = ("nb", "da", "sv")
DEFAULT_LANGUAGE = "nb"
RESPONSE_FILES = ("faq.yml", "dialogue.yml", "handoff.yml")

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


def in_language(by_language: Dict[Text, Text], language: Text | None) -> Text:
    """The text in the language, or in the default language when it is unknown."""
    return by_language.get(language or DEFAULT_LANGUAGE) or by_language[DEFAULT_LANGUAGE]
