"""Personal data in what people write: found with real checksums, masked before anything
is stored, logged or sent.

Norwegian fødselsnummer and D-numbers (two mod-11 check digits), Swedish personnummer and
samordningsnummer (a birth date, day + 60 for the latter, and a Luhn digit), Danish CPR
numbers (a birth date; as CPR numbers since 2007 need not pass mod 11, a bare ten digits
counts only with the dash after the date, a word saying so, or a passing mod-11), payment
cards (Luhn) and IBANs (mod 97), written with spaces, no-break spaces, dashes, en dashes,
dots or slashes between the digits. `python-stdnum` does the checking. A number that
fails its checksum, such as most order numbers, is left as it is.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Iterator, List, Optional, Tuple

from stdnum import iban, luhn
from stdnum.dk import cpr
from stdnum.no import fodselsnummer
from stdnum.se import personnummer

MASK_CHARACTER = "*"
SEPARATOR = r"[ \u00a0\-\u2013\u2014./]"
# runs of digit groups; each run is then tried whole and in shorter spans of its groups
DIGIT_RUN = re.compile(rf"(?<![\w])\d+(?:{SEPARATOR}{{1,2}}\d+)*(?![\w])")
IBAN_CANDIDATE = re.compile(r"(?<![\w])[A-Za-z]{2}\d{2}(?:[ \u00a0]?[A-Za-z0-9]){10,30}(?![\w])")
GROUP = re.compile(r"\d+")
WORD = re.compile(r"[A-Za-z0-9]+")
CPR_WORDS = re.compile(r"(?i)\b(?:cpr|personnummer|personnr|person-nr|cpr-nr|fødselsnummer|"
                       r"foedselsnummer|personal id|id-nummer)")


@dataclass(frozen=True)
class PersonalData:
    """One piece of personal data found in a text: its kind and character span."""

    kind: str  # personal_id, card_number or iban
    start: int
    end: int


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _swedish_coordination_number(digits: str) -> bool:
    """Samordningsnummer: a personnummer whose day is the birth day plus 60."""
    ten = digits[-10:]
    if len(digits) not in (10, 12) or not luhn.is_valid(ten):
        return False
    year, month, day = int(ten[0:2]), int(ten[2:4]), int(ten[4:6]) - 60
    try:
        dt.date(2000 + year, month, day)
    except ValueError:
        return False
    return True


def _mod11_cpr(digits: str) -> bool:
    weights = (4, 3, 2, 7, 6, 5, 4, 3, 2, 1)
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 == 0


def identity_kind(written: str, text: str = "") -> Optional[str]:
    """'personal_id' when the written number is a valid Nordic identity number."""
    digits = _digits(written)
    if len(digits) == 11 and fodselsnummer.is_valid(digits):  # also D-numbers
        return "personal_id"
    swedish = personnummer.is_valid(digits) or _swedish_coordination_number(digits)
    if len(digits) in (10, 12) and swedish:
        return "personal_id"
    if len(digits) == 10 and cpr.is_valid(digits):
        dashed = re.fullmatch(rf"\d{{6}}{SEPARATOR}\d{{4}}", written.strip()) is not None
        if dashed or _mod11_cpr(digits) or CPR_WORDS.search(text):
            return "personal_id"
    return None


def card_kind(written: str) -> Optional[str]:
    digits = _digits(written)
    return "card_number" if 13 <= len(digits) <= 19 and luhn.is_valid(digits) else None


def _spans_of_groups(match: "re.Match[str]") -> Iterator[Tuple[int, int]]:
    """Spans of consecutive digit groups of a run, longest first."""
    groups = [(m.start() + match.start(), m.end() + match.start()) for m in GROUP.finditer(match.group())]
    for size in range(len(groups), 0, -1):
        for first in range(0, len(groups) - size + 1):
            yield groups[first][0], groups[first + size - 1][1]


def find_personal_data(text: str) -> List[PersonalData]:
    """Every valid identity number, card number and IBAN in the text, in order."""
    found: List[PersonalData] = []

    def free(start: int, end: int) -> bool:
        return all(end <= item.start or start >= item.end for item in found)

    for match in IBAN_CANDIDATE.finditer(text):
        # the pattern may run on into the next word ("... 1162 43 takk"): the longest
        # run of its words that is a valid IBAN, if any
        ends = [match.start() + word.end() for word in WORD.finditer(match.group())]
        for end in reversed(ends):
            if iban.is_valid(text[match.start():end]):
                found.append(PersonalData("iban", match.start(), end))
                break
    for match in DIGIT_RUN.finditer(text):
        for start, end in _spans_of_groups(match):
            if not free(start, end):
                continue
            written = text[start:end]
            kind = identity_kind(written, text) or card_kind(written)
            if kind:
                found.append(PersonalData(kind, start, end))
    return sorted(found, key=lambda item: item.start)


def mask(text: str) -> str:
    """The text with the digits and letters of its personal data replaced by asterisks.

    Separators and the text's length are kept, so that the masked text still reads like
    the customer's ("personnummeret mitt er ******-*****").
    """
    if not text:
        return text
    characters = list(text)
    for item in find_personal_data(text):
        for index in range(item.start, item.end):
            if characters[index].isalnum():
                characters[index] = MASK_CHARACTER
    return "".join(characters)
