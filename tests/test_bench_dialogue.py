"""The dialogue benchmark's checker (tools/bench_dialogue.py) on hand-made replies.

No servers: each expectation kind is judged on replies built here from the real content,
once where it holds and once where it does not.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any, Dict, List, Optional

import pytest

from tools.bench_dialogue import (
    Content,
    Reply,
    TurnContext,
    check_truthful_handoff,
    check_turn,
    detect_language,
    handed_this_turn,
    load_conversations,
    normalise_order_number,
    same_detail,
    snippet,
)

CONTENT = Content.load()
T = CONTENT.texts
# a Monday morning (open everywhere) and a Sunday (closed everywhere)
MONDAY_OPEN = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.timezone.utc)
SUNDAY_CLOSED = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.timezone.utc)


def bot(*texts: str, buttons: Optional[List[str]] = None, status: str = "bot",
        reference: Optional[str] = None, detail: Optional[Dict[str, Any]] = None,
        moment: Optional[dt.datetime] = None) -> Reply:
    messages: List[Dict[str, Any]] = [{"sender": "bot", "text": text} for text in texts]
    if buttons:
        messages[-1]["buttons"] = [{"title": p, "payload": p} for p in buttons]
    return Reply(messages, status=status,
                 escalation={"reference": reference} if reference else None,
                 escalation_detail=detail, moments=(moment,) if moment else ())


def check(expect: Dict[str, Any], reply: Reply, previous: Optional[Reply] = None,
          language: str = "nb", content: Content = CONTENT) -> List[str]:
    return check_turn(expect, reply, previous, language, content)


def answer(topic: str, language: str = "nb", welcome: bool = False) -> str:
    text = T[topic][language]
    return f"{T['welcome_prefix'][language]} {text}" if welcome else text


def test_the_held_out_set_uses_only_known_expectations() -> None:
    from tools.bench_dialogue import CHECKS

    conversations = load_conversations()
    assert len(conversations) >= 60
    keys = {key for c in conversations for turn in c["turns"] for key in turn["expect"]}
    assert keys <= set(CHECKS)
    topics = {t for c in conversations for turn in c["turns"]
              for t in turn["expect"].get("answers", [])}
    assert topics <= set(T)


# --- answers -------------------------------------------------------------------------------

def test_answers_holds_with_welcome_and_in_order() -> None:
    reply = bot(answer("shipping_cost", welcome=True), answer("return_policy"),
                T["anything_else"]["nb"])
    assert check({"answers": ["shipping_cost", "return_policy"]}, reply) == []


def test_answers_holds_when_both_answers_are_in_one_message_with_other_line_breaks() -> None:
    merged = answer("payment_methods", "sv").replace("\n", " ") + "\n\n" + answer("opening_hours", "sv")
    assert check({"answers": ["payment_methods", "opening_hours"]}, bot(merged), language="sv") == []


def test_answers_fails_when_an_answer_is_missing_or_out_of_order() -> None:
    assert check({"answers": ["shipping_cost", "return_policy"]},
                 bot(answer("shipping_cost"))) == ["answers: no return_policy answer"]
    assert check({"answers": ["shipping_cost", "return_policy"]},
                 bot(answer("return_policy"), answer("shipping_cost"))) == [
        "answers: return_policy out of order"]


def test_answers_needs_the_start_of_the_text_not_just_a_word_of_it() -> None:
    assert check({"answers": ["track_order"]}, bot("Pakken er sendt, se sporingslenken.")) != []


# --- topic ---------------------------------------------------------------------------------

def with_aspect(key: str, text: str) -> Content:
    texts = dict(CONTENT.texts)
    texts[key] = {lang: f"{text} ({lang})" for lang in ("nb", "da", "sv")}
    return replace(CONTENT, texts=texts)


def test_topic_holds_with_the_answer_or_an_aspect_of_it() -> None:
    assert check({"topic": "return_policy"}, bot(answer("return_policy"))) == []
    content = with_aspect("return_policy__cost", "Returen koster 49 kr og trekkes fra beløpet")
    reply = bot("Returen koster 49 kr og trekkes fra beløpet (nb)", T["anything_else"]["nb"])
    assert check({"topic": "return_policy"}, reply, content=content) == []


def test_topic_fails_on_another_answer_a_clarifying_question_or_nothing() -> None:
    assert check({"topic": "return_policy"}, bot(answer("shipping_cost"))) == [
        "topic: no answer on return_policy"]
    both = bot(answer("return_policy"), answer("refund_status"))
    assert check({"topic": "return_policy"}, both) == ["topic: also answers refund_status"]
    clarifying = bot(answer("return_policy"), T["clarify"]["nb"],
                     buttons=["/return_policy", "/refund_status", "/request_human"])
    assert check({"topic": "return_policy"}, clarifying) == [
        "topic: clarifying question instead of staying on return_policy"]


# --- language ------------------------------------------------------------------------------

def test_language_from_content_texts() -> None:
    reply = bot(answer("delivery_time", "sv", welcome=True), T["anything_else"]["sv"])
    assert check({"language": "sv"}, reply) == []
    assert detect_language(reply, CONTENT) == ("sv", "content")
    assert check({"language": "nb"}, reply) == ["language: sv by content, expected nb"]


def test_language_fails_on_a_reply_mixing_languages() -> None:
    reply = bot(answer("delivery_time", "sv"), T["anything_else"]["nb"])
    assert check({"language": "sv"}, reply) == ["language: undecided by content in nb+sv, expected sv"]


def test_language_falls_back_to_marker_words_without_content() -> None:
    assert check({"language": "da"}, bot("Hvad kan jeg gøre for dig? Det er ikke noget problem.")) == []
    assert check({"language": "sv"}, bot("Jag vet inte vad du menar och det är synd.")) == []
    assert check({"language": "nb"}, bot("Jag vet inte vad du menar och det är synd.")) == [
        "language: sv by marker words, expected nb"]
    assert check({"language": "nb"}, bot("OK 123")) == [
        "language: undecided by no content text and no clear marker words, expected nb"]


def test_language_fails_without_text() -> None:
    assert check({"language": "nb"}, bot()) == ["language: no text (expected nb)"]


# --- handoff, reason and details -----------------------------------------------------------

def test_handoff_is_the_turn_the_conversation_is_queued() -> None:
    queued = bot(T["handoff_request_human"]["nb"], status="queued", reference="NH-7Q2K4M")
    assert check({"handoff": True}, queued) == []
    assert check({"handoff": False}, queued) == ["handoff: unexpected (queued)"]
    assert check({"handoff": True}, bot(answer("track_order"))) == ["handoff: expected a hand-off"]
    assert check({"handoff": False}, bot(answer("track_order"))) == []


def test_handoff_by_the_escalation_reference_and_not_again_on_a_later_turn() -> None:
    by_reference = bot("...", reference="NH-7Q2K4M")
    assert handed_this_turn(by_reference, None)
    later = bot(status="queued", reference="NH-7Q2K4M")
    assert not handed_this_turn(later, by_reference)
    assert handed_this_turn(bot(status="queued", reference="NH-8ABCDE"), by_reference)


def test_handoff_reason_and_details_from_the_escalation() -> None:
    detail = {"reason": "late_delivery", "language": "nb",
              "details": {"order_number": "NH-40918273", "email": "Marte.Lien@hotmail.com",
                          "phone": "+47 22 45 67 89"}}
    reply = bot("...", status="queued", reference="NH-7Q2K4M", detail=detail)
    expect = {"handoff_reason": "late_delivery",
              "details": {"order_number": "40918273", "email": "marte.lien@hotmail.com",
                          "phone": "+4722456789"}}
    assert check(expect, reply) == []
    wrong = {"handoff_reason": "complaint", "details": {"order_number": "40918274"}}
    assert check(wrong, reply) == [
        "handoff_reason: late_delivery, expected complaint",
        "details: order_number='NH-40918273' (expected '40918274')"]
    assert check(expect, bot("...")) == ["handoff_reason: no escalation (expected late_delivery)",
                                         "details: no escalation"]


def test_a_reason_from_an_earlier_hand_off_says_so() -> None:
    detail = {"reason": "late_delivery", "details": {}}
    earlier = bot("...", status="queued", reference="NH-7Q2K4M", detail=detail)
    now = bot(status="queued", reference="NH-7Q2K4M", detail=detail)
    assert check({"handoff": True, "handoff_reason": "order_change"}, now, earlier) == [
        "handoff: expected a hand-off",
        "handoff_reason: late_delivery (the escalation of an earlier turn), expected order_change"]


def test_details_fail_when_a_detail_is_missing() -> None:
    reply = bot("...", status="queued", detail={"reason": "order_change",
                                                 "details": {"order_number": "38475610"}})
    assert check({"details": {"order_number": "38475610", "email": "a@b.no"}}, reply) == [
        "details: email=None (expected 'a@b.no')"]


@pytest.mark.parametrize("left, right", [("NH-40918273", "NH40918273"), ("NH-40918273", "40918273"),
                                         ("#40918273", "nh 40918273"), (" 4091 8273", "40918273")])
def test_order_numbers_compare_without_prefix_spaces_and_case(left: str, right: str) -> None:
    assert normalise_order_number(left) == normalise_order_number(right)
    assert same_detail("order_number", left, right)


def test_different_order_numbers_and_phones_differ() -> None:
    assert not same_detail("order_number", "NH-40918273", "40918274")
    assert same_detail("phone", "22 45 67 89", "22456789")
    assert not same_detail("phone", "22 45 67 89", "22 45 67 88")


# --- asks_order_number ---------------------------------------------------------------------

@pytest.mark.parametrize("language", ["nb", "da", "sv"])
def test_asks_order_number_by_the_content_text(language: str) -> None:
    assert check({"asks_order_number": False}, bot(T["ask_order_number"][language])) == [
        "asks_order_number: asks for it"]
    assert check({"asks_order_number": True}, bot(T["ask_order_number"][language])) == []


@pytest.mark.parametrize("text", [
    "Kan du oppgi ordrenummeret ditt?", "Hva er ordrenr. på bestillingen?",
    "Skriv dit ordrenummer her, så kigger vi på det.",
    "Vad är ditt ordernummer?", "Ange ordernumret så hjälper jag dig.", "Vilken order gäller det?",
])
def test_asks_order_number_by_patterns(text: str) -> None:
    assert check({"asks_order_number": False}, bot(text)) == ["asks_order_number: asks for it"]


def test_does_not_ask_when_it_only_uses_the_number() -> None:
    reply = bot(T["handoff_request_human"]["nb"], "Ordrenummeret 57203946 er notert.")
    assert check({"asks_order_number": False}, reply) == []


# --- clarifies, offers_person --------------------------------------------------------------

def test_clarifies_needs_a_topic_button() -> None:
    clarifying = bot(T["clarify"]["nb"], buttons=["/track_order", "/delivery_time",
                                                  "/none_of_these", "/request_human"])
    assert check({"clarifies": True}, clarifying) == []
    assert check({"clarifies": False}, clarifying) == ["clarifies: a clarifying question"]
    assert check({"clarifies": True}, bot("Vil du snakke med en person?", buttons=["/request_human"])) == [
        "clarifies: no clarifying question"]
    assert check({"clarifies": False}, bot(answer("track_order"))) == []


def test_a_payload_with_entities_still_names_its_intent() -> None:
    assert check({"clarifies": True}, bot("?", buttons=['/track_order{"order_number": "1"}'])) == []


def test_offers_person_by_button_or_hand_off() -> None:
    assert check({"offers_person": True}, bot("?", buttons=["/track_order", "/request_human"])) == []
    assert check({"offers_person": True}, bot("...", status="queued", reference="NH-ABCDEF")) == []
    assert check({"offers_person": True}, bot("?", buttons=["/track_order"])) == [
        "offers_person: no person offered"]


# --- repeats_previous ----------------------------------------------------------------------

def test_repeats_previous() -> None:
    previous = bot(answer("shipping_cost", welcome=True), T["anything_else"]["nb"])
    same = bot(answer("shipping_cost"), T["anything_else"]["nb"])
    assert check({"repeats_previous": False}, same, previous)[0].startswith(
        "repeats_previous: repeats")
    other = bot(T["clarify"]["nb"], T["anything_else"]["nb"], buttons=["/return_policy"])
    assert check({"repeats_previous": False}, other, previous) == []
    assert check({"repeats_previous": False}, same, None) == []


def test_the_clarifying_question_itself_may_be_asked_again() -> None:
    previous = bot(T["clarify"]["da"], buttons=["/return_policy"])
    again = bot(T["clarify"]["da"], buttons=["/exchange_item"])
    assert check({"repeats_previous": False}, again, previous, "da") == []


# --- contains_any, not_contains ------------------------------------------------------------

def test_contains_any_and_not_contains_ignore_case_and_line_breaks() -> None:
    reply = bot("Pakken blir liggende i 14\ndager på hentestedet. Gratis retur.")
    assert check({"contains_any": ["fjorten", "14 dag"]}, reply) == []
    assert check({"contains_any": ["GRATIS"]}, reply) == []
    assert check({"contains_any": ["stengt", "søndag"]}, reply) == [
        "contains_any: none of ['stengt', 'søndag']"]
    assert check({"not_contains": ["delbetaling"]}, reply) == []
    assert check({"not_contains": ["gratis", "dekning"]}, reply) == ["not_contains: contains ['gratis']"]


# --- truthful_handoff ----------------------------------------------------------------------

def handoff_reply(*texts: str, moment: dt.datetime = MONDAY_OPEN) -> Reply:
    return bot(*texts, status="queued", reference="NH-7Q2K4M", moment=moment,
               detail={"reason": "request_human", "language": "nb", "details": {}})


def truthful(reply: Reply, is_open: bool, previous: Optional[Reply] = None) -> Optional[str]:
    ctx = TurnContext(CONTENT, previous, "nb", {})
    return check_truthful_handoff(True, reply, ctx, lambda language, moment: is_open)


# literal texts: the templates in content/handoff.yml may change
QUEUE = ("Du er nummer {position} i køen, og ventetiden er omtrent {eta_minutes} minutter. "
         "Saksnummeret ditt er {reference}.")
CLOSED = ("Kundeservice er stengt akkurat nå. Vi åpner igjen {next_open}, og da svarer en kollega "
          "deg her i chatten. Saksnummeret ditt er {reference}.")


def test_truthful_when_open_with_place_wait_and_reference() -> None:
    reply = handoff_reply(QUEUE.format(position=2, eta_minutes=4, reference="NH-7Q2K4M"))
    assert truthful(reply, is_open=True) is None
    assert truthful(reply, is_open=False) == "truthful_handoff: closed but does not say so"


def test_truthful_when_closed_says_so() -> None:
    reply = handoff_reply(CLOSED.format(next_open="i morgen kl. 08:00", reference="NH-7Q2K4M"))
    assert truthful(reply, is_open=False) is None
    assert truthful(reply, is_open=True) == "truthful_handoff: says closed while open"


def test_truthful_needs_a_hand_off_and_a_reference() -> None:
    no_reference = handoff_reply(QUEUE.format(position=1, eta_minutes=2, reference="snart"))
    assert truthful(no_reference, is_open=True) == "truthful_handoff: no reference"
    not_handed = bot(QUEUE.format(position=1, eta_minutes=2, reference="NH-7Q2K4M"))
    assert truthful(not_handed, is_open=True) == "truthful_handoff: no hand-off"


@pytest.mark.parametrize("text, verdict", [
    ("ventetiden er omtrent 1 minutt. Saksnummer NH-7Q2K4M", None),
    ("ventetiden er omtrent 3 minutter. Saksnummer NH-7Q2K4M", None),
    ("ventetiden er omtrent 1 minutter. Saksnummer NH-7Q2K4M",
     'truthful_handoff: wrong plural "1 minutter"'),
    ("ventetiden er cirka 5 minut. Sagsnummer C-7Q2K4M", 'truthful_handoff: wrong plural "5 minut"'),
    ("väntetiden är ungefär 1 minuter. Ärendenummer NH-7Q2K4M",
     'truthful_handoff: wrong plural "1 minuter"'),
    ("väntetiden är ungefär 1 minut. Ärendenummer NH-7Q2K4M", None),
])
def test_truthful_minutes_have_the_right_plural(text: str, verdict: Optional[str]) -> None:
    assert truthful(handoff_reply(text), is_open=True) == verdict


def test_truthful_through_check_turn_uses_the_opening_hours_at_the_reply() -> None:
    closed_text = CLOSED.format(next_open="mandag kl. 08:00", reference="NH-7Q2K4M")
    assert check({"truthful_handoff": True}, handoff_reply(closed_text, moment=SUNDAY_CLOSED)) == []
    assert check({"truthful_handoff": True}, handoff_reply(closed_text, moment=MONDAY_OPEN)) == [
        "truthful_handoff: says closed while open"]


# --- a whole turn --------------------------------------------------------------------------

def test_a_turn_lists_every_failing_expectation() -> None:
    reply = bot(answer("track_order", welcome=True), T["anything_else"]["nb"])
    expect = {"answers": ["track_order"], "handoff": False, "language": "nb",
              "asks_order_number": False, "clarifies": True, "surprise": 1}
    assert check(expect, reply) == ["asks_order_number: asks for it",
                                    "clarifies: no clarifying question",
                                    "unknown expectation surprise"]


def test_a_failed_request_fails_the_turn() -> None:
    assert check({"handoff": False}, Reply([], error="HTTP 502: bad gateway")) == [
        "error: HTTP 502: bad gateway"]


def test_snippets_are_cut_before_placeholders() -> None:
    assert snippet("Du er nummer {position} i køen") == "du er nummer"
    assert len(snippet(T["delivery_time"]["nb"])) == 60


def test_a_text_shared_by_two_languages_is_decided_by_marker_words() -> None:
    reply = bot("Du er nummer 2 i køen. Jeg kan ikke si hvor lenge du må vente, men hva "
                "kan jeg gjøre for deg?")
    shared = {lang: "Du er nummer {position} i køen." for lang in ("nb", "da", "sv")}
    shared["sv"] = "Du är nummer {position} i kön."
    content = replace(CONTENT, texts={**CONTENT.texts, "queue_line": shared})
    assert detect_language(reply, content) == ("nb", "content and marker words")
