"""Splitting a message into the questions it asks, and keeping one question whole."""

import pytest

from bot.components.questions import question_spans


def parts(text: str) -> list[str]:
    return [text[start:end].strip() for start, end in question_spans(text)]


@pytest.mark.parametrize(("text", "expected"), [
    ("hva koster frakt, og hvordan returnerer jeg noe?", ["hva koster frakt", "hvordan returnerer jeg noe"]),
    ("vad kostar frakten och hur lång är leveranstiden?",
     ["vad kostar frakten", "hur lång är leveranstiden"]),
    ("Hvornår har I åbent i weekenden, hvordan bytter jeg en vare?",
     ["Hvornår har I åbent i weekenden", "hvordan bytter jeg en vare"]),
    ("kan jeg betale med vipps? og naar har dere aapent",
     ["kan jeg betale med vipps", "og naar har dere aapent"]),
])
def test_two_questions_become_two_parts(text: str, expected: list[str]) -> None:
    assert parts(text) == expected


@pytest.mark.parametrize("text", [
    "hvor lang tid tar det å få pengene og varene tilbake",
    "frakt og retur",
    "kl. 10:00 har dere åpent?",
    "jeg vil bytte jakka og buksa til en større størrelse",
])
def test_one_question_with_an_and_inside_stays_whole(text: str) -> None:
    assert parts(text) == [text]


def test_a_greeting_joins_the_question_after_it() -> None:
    assert parts("hei! hva koster frakt? og hvordan returnerer jeg?") == [
        "hei! hva koster frakt", "og hvordan returnerer jeg"]
