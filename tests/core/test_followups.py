"""Short follow-ups read in the topic's context, and the content they are answered from."""

from __future__ import annotations

import pytest
import yaml

from core.content import CONTENT_DIR, read_texts
from core.followups import ASPECT_SEPARATOR, aspects_of, continues, follow_up_aspect
from core.languages import LANGUAGES

ASPECT_WORDS = yaml.safe_load((CONTENT_DIR / "aspect_words.yml").read_text(encoding="utf-8"))
FAQ_TOPICS = set(read_texts(CONTENT_DIR / "faq.yml"))


@pytest.mark.parametrize(("text", "language", "topic", "aspect"), [
    ("og hva koster det?", "nb", "return_policy", "cost"),
    ("hvor lang tid tar det?", "nb", "refund_status", "duration"),
    ("og hvis den er ødelagt?", "nb", "return_policy", "condition"),
    ("og på lørdag?", "nb", "opening_hours", "days"),
    ("og faktura?", "nb", "payment_methods", "invoice"),
    ("hvad med til Sverige?", "da", "shipping_cost", "country"),
    ("och om den är trasig?", "sv", "return_policy", "condition"),
    ("och mejl då?", "sv", "opening_hours", "email"),
])
def test_a_short_follow_up_finds_its_aspect(text: str, language: str, topic: str, aspect: str) -> None:
    assert follow_up_aspect(text, language, topic) == aspect


def test_no_aspect_without_a_topic_or_in_a_long_message() -> None:
    assert follow_up_aspect("hva koster det?", "nb", None) is None
    long = "jeg lurer på hva det koster å sende en pakke med hjemlevering helt opp til Tromsø i vinter"
    assert follow_up_aspect(long, "nb", "shipping_cost") is None


def test_continuation_words_tie_a_message_to_what_was_said() -> None:
    assert continues("og på lørdag?") and continues("och hemleverans?")
    assert not continues("hva koster frakt?")


def test_every_aspect_answer_belongs_to_a_topic_and_has_words() -> None:
    for key in read_texts(CONTENT_DIR / "aspects.yml"):
        topic, aspect = key.split(ASPECT_SEPARATOR)
        assert topic in FAQ_TOPICS, key
        assert aspect in ASPECT_WORDS, key
        assert aspect in aspects_of(topic)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_word_points_to_two_aspects(language: str) -> None:
    seen: dict[str, str] = {}
    for aspect, by_language in ASPECT_WORDS.items():
        for word in by_language[language]:
            assert word.lower() not in seen, f"{word!r} is under {seen.get(word.lower())} and {aspect}"
            seen[word.lower()] = aspect


def test_aspect_words_cover_every_language() -> None:
    for aspect, by_language in ASPECT_WORDS.items():
        assert set(by_language) == set(LANGUAGES), aspect
