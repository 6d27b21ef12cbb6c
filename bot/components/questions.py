"""Splitting a message into the questions it asks, for "what does shipping cost, and how
do I return something?".

A message is cut at sentence ends (? ! . ;) and, inside a sentence, at a conjunction
that joins two questions ("og", "and", "och", "samt", "plus", "også", "dessuten",
"desuden", "dessutom"). The classifier then reads each part on its own; the policy
decides which parts are questions it answers (PrinciplesPolicy: `min_question_confidence`).
A part needs a few words to be read on its own, so "frakt og retur" stays one question.
"""

from __future__ import annotations

import re
from typing import List, Tuple

SENTENCE_END = re.compile(r"[?!;]+|[.:](?=\s|$)")
QUESTION_WORDS = (
    r"hva|hvad|vad|hvor|var|hur|hvordan|hvorfor|varför|varfor|når|naar|nar|hvornår|hvornaar|"
    r"när|hvilken|hvilke|hvilket|vilken|vilka|vilket|kan|kunne|har|er|är|ar|skal|ska|må|"
    r"maa|måste|maste|går|gaar|gäller|galler|finnes|findes|finns|får|faar|tar|tager|koster|"
    r"kostar|funker|fungerer|fungerar|how|what|when|where|which|can|do|does|is|are"
)
# how a question starts when it has no question mark: a question word or a verb first
QUESTION_START = re.compile(
    rf"(?i)^\W*(?:hei\W+|hej\W+|hallo\W+)?(?:(?:og|och|and|men|samt|plus)\s+)?(?:{QUESTION_WORDS})\b")
# inside one sentence: a conjunction, or a comma before a question word, joins two questions
JOIN = re.compile(
    r"(?i)(?:,\s*|\s+)(?:og|and|och|samt|plus|også|ogsaa|dessuten|desuden|dessutom|"
    r"og så|og saa|och så)\s+"
    rf"|,\s*(?=(?:{QUESTION_WORDS})\b)"
)
MIN_WORDS = 3
WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _spans(text: str, boundary: re.Pattern[str], start: int, end: int) -> List[Tuple[int, int]]:
    spans, position = [], start
    for match in boundary.finditer(text, start, end):
        spans.append((position, match.start()))
        position = match.end()
    spans.append((position, end))
    return [span for span in spans if _words(text, span) > 0]


def _words(text: str, span: Tuple[int, int]) -> int:
    return len(WORD.findall(text[span[0]:span[1]]))


def is_question(text: str, span: Tuple[int, int]) -> bool:
    """Whether the part reads as a question: a question mark after it, or its first word."""
    start, end = span
    return text[end:end + 1] == "?" or QUESTION_START.match(text[start:end]) is not None


def _merge_short(text: str, spans: List[Tuple[int, int]]) -> List[Tuple[int, int]]:
    """Parts too short to read alone ("hei", "takk") join their neighbour."""
    merged: List[Tuple[int, int]] = []
    for span in spans:
        if merged and (_words(text, span) < MIN_WORDS or _words(text, merged[-1]) < MIN_WORDS):
            merged[-1] = (merged[-1][0], span[1])
        else:
            merged.append(span)
    return merged


def question_spans(text: str) -> List[Tuple[int, int]]:
    """Character spans of the message's parts that may each be a question of their own.

    Sentences are always parts; a sentence is cut further only where every piece reads as
    a question ("hva koster frakt, og hvordan returnerer jeg noe?"), so that one question
    with an "og" inside stays whole. One span (the whole text) when nothing splits.
    """
    parts: List[Tuple[int, int]] = []
    for sentence in _spans(text, SENTENCE_END, 0, len(text)):
        pieces = _merge_short(text, _spans(text, JOIN, *sentence))
        if len(pieces) > 1 and all(is_question(text, piece) for piece in pieces):
            parts.extend(pieces)
        else:
            parts.append(sentence)
    parts = _merge_short(text, parts)
    return parts if len(parts) > 1 else [(0, len(text))]
