"""Identity, card and IBAN numbers: valid ones masked in every spelling, invalid ones and
order numbers kept. The numbers are made up, with correct check digits."""

from __future__ import annotations

import pytest

from core.personal_data import find_personal_data, mask

VALID = {
    "Norwegian fødselsnummer": "15076500565",
    "Norwegian D-number": "55076500559",
    "Swedish personnummer": "811228-9874",
    "Swedish personnummer, 12 digits": "19811228-9874",
    "Swedish samordningsnummer": "701063-2391",
    "Danish CPR": "211062-5629",
    "Visa card": "4111 1111 1111 1111",
    "Mastercard": "5555 5555 5555 4444",
    "Norwegian IBAN": "NO93 8601 1117 947",
    "Danish IBAN": "DK50 0040 0440 1162 43",
}
INVALID = {
    "fødselsnummer with a wrong check digit": "15076500566",
    "personnummer with a wrong Luhn digit": "811228-9875",
    "card with a wrong Luhn digit": "4111 1111 1111 1112",
    "order number": "40918273",
    "prefixed order number": "NH-40918273",
    "ten-digit order number": "1234567890",
    "Swedish mobile": "0701234567",
}


def spellings(number: str) -> list[str]:
    """The number as people write it: with spaces, no-break spaces, dashes, en dashes, dots,
    slashes, or nothing between the groups."""
    digits = "".join(ch for ch in number if ch.isalnum())
    if not digits[:2].isdigit():  # an IBAN: letters first, in groups of four
        groups = [digits[i:i + 4] for i in range(0, len(digits), 4)]
        return [" ".join(groups), "".join(groups), "\u00a0".join(groups).lower()]
    if len(digits) in (13, 16, 19):
        groups = [digits[i:i + 4] for i in range(0, len(digits), 4)]
    else:
        groups = [digits[:6], digits[6:]] if len(digits) != 12 else [digits[:8], digits[8:]]
    return [separator.join(groups) for separator in ("", " ", "\u00a0", "-", "\u2013", ".", "/")]


@pytest.mark.parametrize("kind", VALID)
def test_a_valid_number_is_masked_in_every_spelling(kind: str) -> None:
    for written in spellings(VALID[kind]):
        text = f"hei, her er nummeret mitt: {written} takk"
        masked = mask(text)
        assert written not in masked, (kind, written)
        assert len(masked) == len(text)
        assert masked.startswith("hei, her er nummeret mitt: ") and masked.endswith(" takk")


@pytest.mark.parametrize("kind", INVALID)
def test_an_invalid_number_or_order_number_is_kept(kind: str) -> None:
    text = f"nummeret er {INVALID[kind]}"
    assert mask(text) == text


def test_two_numbers_side_by_side_are_judged_each_on_its_own() -> None:
    text = "ordre 40918273 og fnr 15076500565"
    assert mask(text) == "ordre 40918273 og fnr ***********"
    assert [item.kind for item in find_personal_data(text)] == ["personal_id"]


def test_a_bare_danish_number_needs_its_dash_a_word_or_mod_11() -> None:
    assert mask("2110625629") == "**********"  # passes mod 11
    assert mask("ring 3001001234") == "ring 3001001234"  # a date, no dash, no word, no mod 11
    assert mask("mit cpr er 3001001234") == "mit cpr er **********"


def test_empty_text_is_fine() -> None:
    assert mask("") == ""
