"""Suggested answers for the agent of an escalation: the FAQ answers the bot gives
(content/faq.yml, with the follow-ups on one aspect from content/aspects.yml) and the agents'
canned responses (content/canned.yml), in the customer's language, ranked for the escalation.

Each language is also a country (core/languages.py: nb Norway, da Denmark, sv Sweden), so
the customer's language picks their country's answers (prices, carriers, laws); content/
has no other per-country variants.

How they are ranked (`rank`):
1. the answers on the topics the bot saw, in the order it saw them: each topic's FAQ answer,
   then the canned responses tagged with it (among these, the better match with what the
   agent types first);
2. then what matches what the agent types: words shared with the title, the tags (and their
   names in the customer's language) or the text, a rare word counting more than a common
   one; accent-insensitive and Scandinavian-aware (å/aa, ø/ö/oe, æ/ä/ae are one letter),
   and with their endings ("retur" finds "returen", "returneringen" finds "returen");
3. then the rest: canned responses for any conversation (greeting, callback, closing),
   follow-ups on the seen topics, canned responses on other topics, other FAQ answers,
   other follow-ups.
A canned response that asks for a fact the customer already gave the bot (their order
number, say) is not offered at all.
"""

from __future__ import annotations

import math
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml

from core.content import CONTENT_DIR, ContentError, read_texts, topic_labels
from core.followups import ASPECT_SEPARATOR, aspect_answers
from core.languages import DEFAULT_LANGUAGE, LANGUAGES
from core.vocabulary import SLOT_EMAIL, SLOT_ORDER_NUMBER, SLOT_PHONE, SLOT_VERIFIED_ORDER

FAQ_FILE = "faq.yml"
CANNED_FILE = "canned.yml"
Kind = Literal["faq", "canned"]
# what a canned response's {agent} and {reference} become (`fill`)
PLACEHOLDERS = ("agent", "reference")
# the facts a canned response may ask for (its `asks_for`), and the details of a hand-off
# that show the customer gave it already
ASKED_FACTS: dict[str, tuple[str, ...]] = {
    SLOT_ORDER_NUMBER: (SLOT_ORDER_NUMBER, SLOT_VERIFIED_ORDER),
    SLOT_EMAIL: (SLOT_EMAIL,),
    SLOT_PHONE: (SLOT_PHONE,),
}
# Scandinavian endings, without a stemmer: a word of MIN_STEM letters or more matches the
# words it begins and a word of MIN_STEM letters that begins it (pris, prisen); and words
# that share their first SHARED_STEM letters match (returen, returneringen)
MIN_STEM, SHARED_STEM = 4, 5
# shorter typed words are ignored
MIN_WORD = 2
# a typed word found in more than this share of the answers tells none of them apart (og,
# du, det, och, ...): it is ignored
MAX_WORD_SHARE = 0.5
# a word in the title or the tags counts this many times one in the text
HEADING_WEIGHT = 2
CANNED_FIELDS = {"tags", "asks_for", *LANGUAGES}
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
WORD = re.compile(r"[^\W_]+")
SCANDINAVIAN_LETTERS = str.maketrans({"å": "a", "æ": "a", "ä": "a", "ø": "o", "ö": "o"})
# how the letters are written without them (on a keyboard that lacks them, or in old names)
SCANDINAVIAN_DIGRAPHS = (("aa", "a"), ("ae", "a"), ("oe", "o"))


@dataclass(frozen=True)
class CannedResponse:
    """One entry of content/canned.yml: (title, text) by language."""

    key: str
    tags: tuple[str, ...]
    asks_for: str | None
    by_language: Mapping[str, tuple[str, str]]


@dataclass(frozen=True)
class Answer:
    """An answer the agent may send, in one language, before it is ranked."""

    kind: Kind
    key: str
    title: str
    text: str
    # what it is about: a FAQ answer's topic, a canned response's tags
    topics: tuple[str, ...]
    # words it is found by besides its title: its topics and their names in the language
    tags: tuple[str, ...] = ()
    # a FAQ answer on one aspect of its topic (content/aspects.yml), not the topic's own
    follow_up: bool = False
    asks_for: str | None = None


@dataclass(frozen=True)
class Suggestion:
    kind: Kind
    key: str
    title: str
    text: str
    topic: str | None


# --- words ---

def fold(text: str) -> str:
    """Lowercase, without accents, and with one spelling of the Scandinavian letters:
    å/aa/æ/ä/ae become a, ø/ö/oe become o, é becomes e."""
    text = unicodedata.normalize("NFC", text).casefold().translate(SCANDINAVIAN_LETTERS)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    for written, letter in SCANDINAVIAN_DIGRAPHS:
        text = text.replace(written, letter)
    return text


def words(text: str) -> list[str]:
    """The folded words of the text, in order."""
    return WORD.findall(fold(text))


class WordSet:
    """The words of a text, for asking whether it has a word or a word's longer or
    shorter form."""

    def __init__(self, text: str) -> None:
        self.words = frozenset(words(text))
        self.ordered = sorted(self.words)

    def has(self, word: str) -> bool:
        """Whether the text has the word, or a form of it (see MIN_STEM)."""
        if word in self.words:
            return True
        if len(word) < MIN_STEM:
            return False
        stem = word[:SHARED_STEM]
        at = bisect_left(self.ordered, stem)
        if at < len(self.ordered) and self.ordered[at].startswith(stem):
            return True  # retu -> returen, returneringen -> returen
        return word[:MIN_STEM] in self.words  # prisen -> pris


@lru_cache(maxsize=8192)
def word_set(text: str) -> WordSet:
    """The words of a text (the same content texts are matched on every request)."""
    return WordSet(text)


def match_scores(answers: Sequence[Answer], query: str) -> list[float]:
    """How well each answer matches what the agent typed: for each typed word the answer
    has, its rarity among the answers (log(1 + answers / answers having it)), counted
    HEADING_WEIGHT times in the title or tags. 0 for no match."""
    scores = [0.0] * len(answers)
    typed = [word for word in dict.fromkeys(words(query)) if len(word) >= MIN_WORD]
    if not typed or not answers:
        return scores
    fields = [(word_set(" ".join((answer.title, *answer.tags))), word_set(answer.text))
              for answer in answers]
    for word in typed:
        hits = [HEADING_WEIGHT if heading.has(word) else 1 if body.has(word) else 0
                for heading, body in fields]
        having = sum(1 for hit in hits if hit)
        if not having or having > max(1.0, MAX_WORD_SHARE * len(answers)):
            continue
        rarity = math.log(1 + len(answers) / having)
        for index, hit in enumerate(hits):
            scores[index] += hit * rarity
    return scores


# --- ranking ---

def already_known(fact: str | None, details: Mapping[str, Any]) -> bool:
    """Whether the hand-off's details hold the fact a canned response asks for."""
    return fact is not None and any(details.get(name) for name in ASKED_FACTS.get(fact, (fact,)))


def rank(answers: Sequence[Answer], seen_topics: Sequence[str], query: str = "",
         details: Mapping[str, Any] | None = None) -> list[Answer]:
    """The answers in the order the agent is offered them (see the module's docstring);
    `answers` in their natural order (FAQ answers, canned responses, follow-ups), which
    breaks ties."""
    offered = [answer for answer in answers if not already_known(answer.asks_for, details or {})]
    place = {topic: index for index, topic in enumerate(dict.fromkeys(seen_topics))}
    unseen = len(place)
    scores = match_scores(offered, query)

    def order(item: tuple[int, Answer]) -> tuple[float, ...]:
        index, answer = item
        seen = min((place[topic] for topic in answer.topics if topic in place), default=None)
        if seen is not None and not answer.follow_up:
            return (0, seen, -scores[index], index)
        if scores[index] > 0:
            return (1, -scores[index], unseen if seen is None else seen, index)
        if seen is not None:  # a follow-up on a topic the bot saw
            return (2, 1, seen, index)
        if answer.kind == "canned":  # for any conversation (no tags) first
            return (2, 2 if answer.topics else 0, 0, index)
        return (2, 4 if answer.follow_up else 3, 0, index)

    return [answer for _, answer in sorted(enumerate(offered), key=order)]


def fill(text: str, values: Mapping[str, str]) -> str:
    """The text with its {placeholders} replaced (only those of PLACEHOLDERS given)."""
    for name in PLACEHOLDERS:
        if name in values:
            text = text.replace("{" + name + "}", values[name])
    return text


def suggestion(answer: Answer, seen_topics: Sequence[str], values: Mapping[str, str]) -> Suggestion:
    """What the agent is shown: the topic is the first of the answer's that the bot saw."""
    topic = next((topic for topic in answer.topics if topic in seen_topics),
                 answer.topics[0] if answer.topics else None)
    return Suggestion(answer.kind, answer.key, answer.title, fill(answer.text, values), topic)


# --- the answers of one language ---

def faq_answers(language: str, faq: Mapping[str, Mapping[str, str]],
                follow_ups: Mapping[str, Mapping[str, str]],
                labels: Mapping[str, Mapping[str, str]]) -> tuple[list[Answer], list[Answer]]:
    """(each topic's FAQ answer, the follow-ups on one aspect) in `language`: the FAQ
    answers that are about a topic (those with a name in `labels`, topics.yml), titled
    with the topic's name in customer words."""
    def tags(topic: str) -> tuple[str, ...]:
        return (topic, labels[topic][language])

    own = [Answer("faq", topic, labels[topic][language], texts[language], (topic,), tags(topic))
           for topic, texts in faq.items() if topic in labels]
    asked = {answer.key for answer in own}
    aspects = []
    for key, texts in follow_ups.items():
        topic = key.split(ASPECT_SEPARATOR, 1)[0]
        if topic in asked:
            aspects.append(Answer("faq", key, labels[topic][language], texts[language],
                                  (topic,), tags(topic), follow_up=True))
    return own, aspects


def canned_answers(language: str, canned: Mapping[str, CannedResponse],
                   labels: Mapping[str, Mapping[str, str]]) -> list[Answer]:
    answers = []
    for response in canned.values():
        title, text = response.by_language[language]
        names = tuple(labels[tag][language] for tag in response.tags if tag in labels)
        answers.append(Answer("canned", response.key, title, text, response.tags,
                              (*response.tags, *names), asks_for=response.asks_for))
    return answers


def read_canned(path: Path, topics: Sequence[str]) -> dict[str, CannedResponse]:
    """The canned responses of a file, checked: every language has a title and a text,
    tags are topics, `asks_for` a fact the hand-off carries, placeholders known ones."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(entries, dict):
        raise ContentError(f"{path.name}: expected canned responses by key")
    canned: dict[str, CannedResponse] = {}
    for key, entry in entries.items():
        where = f"{path.name}: '{key}'"
        if not isinstance(entry, dict):
            raise ContentError(f"{where} must have tags and nb, da and sv")
        unknown = sorted(set(map(str, entry)) - CANNED_FIELDS)
        if unknown:
            raise ContentError(f"{where} has unknown fields: {', '.join(unknown)}")
        tags = entry.get("tags") or []
        if not isinstance(tags, list) or any(tag not in topics for tag in tags):
            raise ContentError(f"{where}: tags must be a list of topics (topics.yml)")
        asks_for = entry.get("asks_for")
        if asks_for is not None and asks_for not in ASKED_FACTS:
            raise ContentError(f"{where}: asks_for must be one of {', '.join(ASKED_FACTS)}")
        by_language = {}
        for language in LANGUAGES:
            texts = entry.get(language)
            title, text = ((str(texts.get("title") or "").strip(), str(texts.get("text") or "").strip())
                           if isinstance(texts, dict) else ("", ""))
            if not title or not text:
                raise ContentError(f"{where} needs a title and a text in {language}")
            unknown = sorted(set(PLACEHOLDER.findall(text)) - set(PLACEHOLDERS))
            if unknown:
                raise ContentError(f"{where} ({language}) has unknown placeholders: "
                                   + ", ".join("{" + name + "}" for name in unknown))
            by_language[language] = (title, text)
        canned[str(key)] = CannedResponse(str(key), tuple(tags), asks_for, by_language)
    return canned


@lru_cache(maxsize=None)
def load_canned(content_dir: Path = CONTENT_DIR) -> dict[str, CannedResponse]:
    return read_canned(content_dir / CANNED_FILE, list(topic_labels(content_dir)))


@lru_cache(maxsize=None)
def answers_in(language: str, content_dir: Path = CONTENT_DIR) -> tuple[Answer, ...]:
    """Every answer in the language, in their natural order: FAQ answers, canned
    responses, follow-ups."""
    labels = topic_labels(content_dir)
    own, follow_ups = faq_answers(language, read_texts(content_dir / FAQ_FILE),
                                  aspect_answers(content_dir), labels)
    return (*own, *canned_answers(language, load_canned(content_dir), labels), *follow_ups)


def for_escalation(language: str, seen_topics: Sequence[str], details: Mapping[str, Any],
                   query: str, limit: int, values: Mapping[str, str],
                   content_dir: Path = CONTENT_DIR) -> list[Suggestion]:
    """The first `limit` suggestions for a hand-off in `language` (the default language
    when it is not a customer's language) on `seen_topics`, for what the agent typed."""
    language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    ranked = rank(answers_in(language, content_dir), seen_topics, query, details)
    return [suggestion(answer, seen_topics, values) for answer in ranked[:limit]]
