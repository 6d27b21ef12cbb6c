"""Short follow-ups about the topic just answered: "and what does it cost?", "how long?",
"and if it is broken?", "and on Saturday?", "and by invoice?".

The aspect answers are content (content/aspects.yml, keys `<topic>__<aspect>`); the words
that point to an aspect are content too (content/aspect_words.yml), per language. A word
matches at the start of a word, so "kost" matches "koster" and "kostar".
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Pattern, Tuple

import yaml

from core.content import CONTENT_DIR, read_texts
from core.languages import LANGUAGES

ASPECT_SEPARATOR = "__"
ASPECTS_FILE = "aspects.yml"
ASPECT_WORDS_FILE = "aspect_words.yml"
# a follow-up is short: longer messages are read on their own words
MAX_FOLLOW_UP_WORDS = 9
# words that tie a short message to what was just said ("and ...", "what about ...", "it")
CONTINUATION = {
    "nb": r"og|men|hva med|enn|hvis|om|det|den|dem|de|dette|samme|også|da",
    "da": r"og|men|hvad med|hvis|om|det|den|dem|de|dette|samme|også|så",
    "sv": r"och|men|vad gäller|hur är det med|om|det|den|dem|de|detta|samma|också|då",
}
# every language's continuation words in one pattern, compiled once (read on every message)
CONTINUES = re.compile(rf"(?<![\w])(?:{'|'.join(CONTINUATION.values())})(?![\w])", re.IGNORECASE)
WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")


def aspect_key(topic: str, aspect: str) -> str:
    return f"{topic}{ASPECT_SEPARATOR}{aspect}"


@lru_cache(maxsize=None)
def aspect_answers(content_dir: Path = CONTENT_DIR) -> Dict[str, Dict[str, str]]:
    """Aspect answers by `<topic>__<aspect>` key and language (empty without the file)."""
    path = content_dir / ASPECTS_FILE
    return read_texts(path) if path.is_file() else {}


@lru_cache(maxsize=None)
def _aspect_patterns(content_dir: Path = CONTENT_DIR) -> Dict[str, Dict[str, Pattern[str]]]:
    path = content_dir / ASPECT_WORDS_FILE
    entries = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.is_file() else {}
    patterns: Dict[str, Dict[str, Pattern[str]]] = {}
    for aspect, by_language in entries.items():
        patterns[aspect] = {}
        for language in LANGUAGES:
            listed = (by_language or {}).get(language) or []
            words = [str(w).strip().lower() for w in listed if str(w).strip()]
            if words:
                alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
                patterns[aspect][language] = re.compile(rf"(?<![\w])(?:{alternatives})", re.IGNORECASE)
    return patterns


def aspects_of(topic: str) -> List[str]:
    """The aspects of the topic that have an answer."""
    prefix = topic + ASPECT_SEPARATOR
    return [key[len(prefix):] for key in aspect_answers() if key.startswith(prefix)]


def mentioned_aspects(text: str, language: str) -> List[Tuple[int, str]]:
    """(position, aspect) of every aspect the text points to, in the order written."""
    found = []
    for aspect, by_language in _aspect_patterns().items():
        pattern = by_language.get(language)
        match = pattern.search(text) if pattern else None
        if match:
            found.append((match.start(), aspect))
    return sorted(found)


def is_short(text: str) -> bool:
    return len(WORD.findall(text)) <= MAX_FOLLOW_UP_WORDS


def continues(text: str) -> bool:
    """Whether the message leans on what was said before ("og ...", "hva med ...", "det").

    Every language's words count: a Swede's "och" after a Norwegian answer leans on it
    just the same.
    """
    return CONTINUES.search(text) is not None


def follow_up_aspect(text: str, language: str, topic: Optional[str]) -> Optional[str]:
    """The aspect of `topic` a short follow-up asks about, if it has an answer."""
    if not topic or not is_short(text):
        return None
    available = set(aspects_of(topic))
    for _, aspect in mentioned_aspects(text, language):
        if aspect in available:
            return aspect
    return None
