"""Patterns for the details customers type: order numbers, e-mail, phone, postcodes, IDs.

Kept apart from the Rasa component so that the action server and the service can use the
same patterns. Identity, card and IBAN numbers are found by checksum (core/personal_data.py,
which also masks them) so that they are never read as order numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Text

from core.personal_data import find_personal_data

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Norwegian fødselsnummer (11 digits), Swedish personnummer (YYMMDD-XXXX or
# YYYYMMDD-XXXX), Danish CPR (DDMMYY-XXXX): six or eight digits that look like a date,
# an optional separator, then four or five digits.
PHONE = re.compile(
    r"(?<![\w+])(?:\+|00)(?:45|46|47)[ -]?\d(?:[ -]?\d){6,9}(?!\d)"
    r"|(?<!\d)0?7\d[ -]?\d{3}[ -]?\d{2}[ -]?\d{2}(?!\d)"
    r"|(?<!\d)[2-9]\d[ ]?\d{2}[ ]?\d{2}[ ]?\d{2}(?!\d)"
)
# words that make a bare run of digits a phone number ("ring meg på 91234567")
PHONE_CONTEXT = re.compile(r"(?i)\b(?:ring\w*|tlf|telefon\w*|mobil\w*|mob|sms|phone|call|nå meg|"
                           r"naa meg|på nummer|paa nummer|kontakt\w* meg|kontakt\w* mig)\b")
ORDER_PREFIXED = re.compile(r"(?i)\bNH[- ]?\d{5,9}\b")
# "nummer" and "nr" name an order number, except in "postnummer", "postnr" and "post nr"
ORDER_CONTEXT = re.compile(
    r"(?i)(?<!post)(?<!post )(?:ordre|order|ordrer|bestilling|beställning|best|nr|nummer|number|#)\D{0,15}?"
    r"(?<!\d)(\d{5,10})(?!\d)"
)
# a postcode on its own: four digits (NO, DK), five or "114 55" (SE)
POSTCODE_ALONE = re.compile(r"(?<![\w-])(\d{3} \d{2}|\d{4,5})(?![\w-])")
BARE_ORDER = re.compile(r"(?i)(?<![\w-])(NH[- ]?\d{5,9}|\d{5,10})(?![\w-])")
POSTCODE = re.compile(
    r"(?i)(?:postnr|postnummer|postkode|post nr)\.?\s*:?\s*(\d{3}\s?\d{2}|\d{4})(?!\d)"
    r"|(?<!\d)(\d{3} \d{2})(?!\d)"
)

# a clothing or shoe size after its word ("str. M", "størrelse 38", "storlek XL", "size 42"),
# or a letter size written in capitals on its own ("i XL")
SIZE = re.compile(
    r"(?i)\b(?:str|strl|størrelse|storrelse|størrelsen|storlek|storleken|size)\b\.?\s*:?\s*"
    r"(XXS|XS|S|M|L|XL|XXL|XXXL|\d{2}(?:[.,]5)?)(?![\w])"
    r"|(?<![\w])(?-i:(XXS|XS|XL|XXL|XXXL))(?![\w])"
)
# the things Nordhem sells, as customers name them (singular and plural stems)
PRODUCT = re.compile(
    r"(?i)(?<![\w])("
    r"jakke\w*|jakka|jacka\w*|frakk\w*|kåpe\w*|kappa\w*|bukse\w*|byxa\w*|byxor\w*|jeans|"
    r"genser\w*|trøje\w*|tröja\w*|hettegenser\w*|hoodie\w*|skjorte\w*|skjorta\w*|t-?skjorte\w*|"
    r"t-?shirt\w*|kjole\w*|klänning\w*|skjørt\w*|nederdel\w*|kjol\w*|sko|skoen|skoene|skor|skorna|"
    r"støvle\w*|stövl\w*|sneakers|joggesko\w*|sandal\w*|sokk\w*|strømpe\w*|strumpor\w*|"
    r"lue\w*|hue\w*|mössa\w*|skjerf\w*|halstørklæde\w*|halsduk\w*|votter|vanter|handsker|"
    r"vantar|dyne\w*|täcke\w*|pute\w*|pude\w*|kudde\w*|sengetøy\w*|sengetøj\w*|"
    r"sängkläder\w*|håndkle\w*|håndklæde\w*|handduk\w*|lampe\w*|lampa\w*|vase\w*|"
    r"pledd\w*|plaid\w*|filt\w*|gardin\w*|teppe\w*|tæppe\w*|matta\w*|badetøy\w*|"
    r"badetøj\w*|badkläder\w*|undertøy\w*|undertøj\w*|underkläder\w*|sekk\w*|veske\w*|"
    r"taske\w*|väska\w*|ryggsekk\w*|rygsæk\w*|ryggsäck\w*)(?![\w])"
)


@dataclass(frozen=True)
class Found:
    """One detail found in a text, with its character span."""

    entity: Text
    value: Text
    start: int
    end: int


def _spans_overlap(found: Found, taken: List[Found]) -> bool:
    return any(found.start < other.end and other.start < found.end for other in taken)


def find_details(text: Text) -> List[Found]:
    """All details in the text; earlier (more specific) patterns win overlapping spans."""
    found: List[Found] = []

    def add(entity: Text, match: "re.Match[Text]", group: int = 0) -> None:
        group = group or next((i for i in range(1, (match.lastindex or 0) + 1) if match.group(i)), 0)
        item = Found(entity, match.group(group).strip(), match.start(group), match.end(group))
        if not _spans_overlap(item, found):
            found.append(item)

    for match in EMAIL.finditer(text):
        add("email", match)
    for item in find_personal_data(text):  # by checksum: never read as an order number
        found.append(Found(item.kind, text[item.start:item.end], item.start, item.end))
    for match in ORDER_PREFIXED.finditer(text):
        add("order_number", match)
    for match in ORDER_CONTEXT.finditer(text):
        add("order_number", match, 1)
    for match in PHONE.finditer(text):
        if match.group().isdigit() and not PHONE_CONTEXT.search(text):
            continue  # eight bare digits are as likely an order number: a phone says so
        add("phone", match)
    for match in POSTCODE.finditer(text):
        add("postcode", match)
    for match in SIZE.finditer(text):
        add("size", match)
    for match in PRODUCT.finditer(text):
        add("product", match)
    return sorted(found, key=lambda item: item.start)


def find_bare_order_number(text: Text) -> Text | None:
    """An order number given on its own, as an answer to "which order?".

    Asked for an order number, a plain run of digits is one, even where it could also be
    read as a phone number (Norwegian and Danish numbers have eight digits too).
    """
    taken = [item for item in find_details(text)
             if item.entity != "order_number"
             and not (item.entity == "phone" and item.value.isdigit())]
    for match in BARE_ORDER.finditer(text):
        if not any(match.start() < t.end and t.start < match.end() for t in taken):
            return match.group(1)
    return None

