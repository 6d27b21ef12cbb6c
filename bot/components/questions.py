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

SENTENCE_END = re.compile(r"[?!;]+|\.(?=\s|$)")
CONJUNCTION = re.compile(
    r"(?i)(?:,\s*|\s+)(?:og|and|och|samt|plus|også|ogsaa|dessuten|desuden|dessutom|"
    r"og så|og saa|och så|og hvad med|og hva med|och vad gäller|og hvor|og hvordan|"
    r"och hur|og hvornår|og når|och när)\s+"
)
MIN_WORDS = 3
WORD = re.compile(r"[^\W_]+", re.UNICODE)
# how a question starts when it has no question mark: a question word or a verb first
QUESTION_START = re.compile(
    r"(?i)^\W*(?:hei\W+|hej\W+|hallo\W+)?(?:hva|hvad|vad|hvor|var|hur|hvordan|hvorfor|varför|"
    r"når|hvornår|när|hvilken|hvilke|hvilket|vilken|vilka|vilket|kan|kunne|har|er|är|skal|ska|"
    r"må|måste|går|gäller|finnes|findes|finns|får|tar|koster|kostar|how|what|when|where|"
    r"which|can|do|does|is|are)\b"
)


def _spans(text: str, boundary: re.Pattern[str], start: int, end: int) -> List[Tuple[int, int]]:
    spans, position = [], start
    for match in boundary.finditer(text, start, end):
        spans.append((position, match.start()))
        position = match.end()
    spans.append((position, end))
    return spans


def _words(text: str, span: Tuple[int, int]) -> int:
    return len(WORD.findall(text[span[0]:span[1]]))


def is_question(text: str, span: Tuple[int, int]) -> bool:
    """Whether the part reads as a question: a question mark after it, or its first word."""
    start, end = span
    return text[end:end + 1] == "?" or QUESTION_START.match(text[start:end]) is not None


def question_spans(text: str) -> List[Tuple[int, int]]:
    """Character spans of the message's parts that may each be a question of their own.

    One span (the whole text) when the message does not split into parts of at least
    `MIN_WORDS` words; a part too short to read alone is joined to the part before it.
    """
    parts: List[Tuple[int, int]] = []
    for sentence in _spans(text, SENTENCE_END, 0, len(text)):
        for part in _spans(text, CONJUNCTION, *sentence):
            if _words(text, part) == 0:
                continue
            if parts and _words(text, part) < MIN_WORDS or parts and _words(text, parts[-1]) < MIN_WORDS:
                parts[-1] = (parts[-1][0], part[1])
            else:
                parts.append(part)
    if len(parts) < 2 or not all(is_question(text, part) for part in parts):
        return [(0, len(text))]
    return parts
