"""`make bench-dialogue`: held-out multi-turn conversations through the service.

The conversations are in benchmarks/dialogue/{nb,da,sv}.yml: each has an id, a kind, a
language and turns of `user` (what the customer types) and `expect` (what must hold of the
reply to that message). A turn passes when all its expectations hold; a conversation passes
when all its turns pass.

Usage (in the service's environment, .venv-api):

    PYTHONPATH=. .venv-api/bin/python -m tools.bench_dialogue [--only ID] [--lang nb]
    PYTHONPATH=. .venv-api/bin/python -m tools.bench_dialogue --url URL --agent-token T

A service given with --url must let one IP start every conversation of the run: raise its
NORDHEM_RATE_LIMIT_NEW_CONVERSATIONS and NORDHEM_RATE_LIMIT_REQUESTS for the run (the
stack started here sets them out of the way, tests/support/stack.py). Its action server
must use a freshly seeded demo order store: the order conversations cancel real demo orders.

By default the whole stack is started in a temporary directory (Rasa with
models/current.tar.gz, the action server on a demo order store seeded there for this run,
and the service on SQLite) and an agent is created for it. Only the service's public HTTP
contract is used: start a conversation, post the customer's messages, and as an agent read
the escalation of a hand-off (reason, details) and resolve it when the conversation ends,
so that every conversation meets an empty queue whatever ran before it.

It prints the pass rate per kind and language and the failing conversations with their
first failing turn, writes results/bench_dialogue.json, and exits 0: it is a benchmark,
not a test (only a stack that does not start is an error).

The checkers (`check_turn` and the `check_<expectation>` functions) are pure: a reply,
the previous reply and the content in, a list of failures out. They need neither the
stack nor httpx, so that tests/test_bench_dialogue.py runs them in the bot's environment.

How the expectations are judged:

- A text "contains" a content text when it contains its first 60 characters (whitespace
  collapsed, case ignored, cut before a {placeholder}), after the welcome prefix the first
  reply may start with.
- `language`: the content texts found in the reply say its language (a text the same in
  several languages counts for each). Only when the reply contains no content text at all
  (e.g. generated or templated text) does a fallback count marker words: each language's
  markers found in the reply, a marker shared by k languages counting 1/k; the highest
  score wins, and a tie is no verdict (the check fails).
- `handoff` means handed to a person on this turn: the reply's status is queued or
  with_agent, or it carries an escalation with a reference, and the previous reply did not
  (or had another reference).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import yaml

from core.languages import LANGUAGES

ROOT = Path(__file__).resolve().parents[1]
# the bot's environment, which has the order store's command (actions.orders)
BOT_PYTHON = ROOT / ".venv" / "bin" / "python"
BENCH_DIR = ROOT / "benchmarks" / "dialogue"
RESULTS = ROOT / "results"
SNIPPET_LENGTH = 60
# shorter snippets (a text cut at its first placeholder) say nothing about the language
MIN_LANGUAGE_SNIPPET = 12
HANDED_STATUSES = ("queued", "with_agent")
REQUEST_HUMAN = "request_human"
# texts a reply may legitimately repeat from the previous one
REPEATABLE_KEYS = ("anything_else", "ask_what_else", "clarify")
REFERENCE = re.compile(r"\b(NH|C)-[A-Z0-9]{4,}\b")
CLOSED_WORDS = {"nb": re.compile(r"\bstengt\b", re.I), "da": re.compile(r"\blukket\b", re.I),
                "sv": re.compile(r"\bstängd\b", re.I)}
MINUTES = re.compile(r"(?<![\d,.])(\d+)\s+(minutt|minut)(ter|er)?\b", re.I)
# asking for the order number, in any of the three languages
ASKS_ORDER_NUMBER = [
    re.compile(r"(skriv|oppgi|send|hva er|hvilken ordre).{0,60}ordre(nummer|nr)", re.I | re.S),
    re.compile(r"(skriv|oplys|angiv|send|hvad er|hvilken ordre).{0,60}ordre(nummer|nr)",
               re.I | re.S),
    re.compile(r"(skriv|ange|uppge|skicka|vad är|vilket|vilken order).{0,60}"
               r"order(nummer|numret|nr)", re.I | re.S),
    re.compile(r"\bh?vilken (ordre|order)\b[^.?!]{0,60}\?", re.I),
]
# the fallback language check: a few frequent words of each language
MARKERS = {
    "nb": {"ikke", "jeg", "deg", "hva", "kan", "og", "er", "meg", "noe", "hvordan", "hvis"},
    "da": {"ikke", "jeg", "dig", "hvad", "af", "er", "og", "mig", "noget", "hvordan", "hvis"},
    "sv": {"inte", "jag", "dig", "vad", "och", "är", "mig", "något", "hur", "om", "att"},
}

Texts = Dict[str, Dict[str, str]]


# --- content -------------------------------------------------------------------------------

def normalise(text: str) -> str:
    """Whitespace collapsed and case folded: how texts are compared."""
    return " ".join(str(text).split()).casefold()


def snippet(text: str) -> str:
    """The part of a content text a reply must contain: its first 60 characters, cut
    before its first {placeholder}."""
    return normalise(text.split("{", 1)[0])[:SNIPPET_LENGTH].strip()


@dataclass(frozen=True)
class Content:
    """What the bot can say (content/*.yml, plus aspects.yml and orders.yml when they exist) and
    the topic intents (content/topics.yml)."""

    texts: Texts
    topics: Tuple[str, ...]

    @classmethod
    def load(cls, content_dir: Optional[Path] = None) -> "Content":
        from core.content import CONTENT_DIR, load_content, read_texts, topic_labels

        directory = content_dir or CONTENT_DIR
        texts: Texts = dict(load_content(directory))
        # follow-up answers, and what the action server says about orders, are content too
        for extra in ("aspects.yml", "orders.yml"):
            path = directory / extra
            if path.exists():
                for key, by_language in read_texts(path).items():
                    texts.setdefault(f"{extra[:-4]}:{key}" if key in texts else key, by_language)
        return cls(texts, tuple(topic_labels(directory)))

    def text(self, key: str, language: str) -> str:
        return self.texts[key][language]

    def snippets(self, key: str) -> Dict[str, str]:
        return {lang: snippet(text) for lang, text in self.texts.get(key, {}).items()}

    def aspect_keys(self, topic: str) -> List[str]:
        return [key for key in self.texts if key.startswith(f"{topic}__")]

    def topic_answers(self) -> List[str]:
        """The topics that have a main answer."""
        return [topic for topic in self.topics if topic in self.texts]


@lru_cache(maxsize=None)
def default_content() -> Content:
    return Content.load()


# --- replies -------------------------------------------------------------------------------

@dataclass
class Reply:
    """What the service answered to one customer message (the POST messages response),
    with the escalation as an agent sees it when there was a hand-off."""

    messages: List[Dict[str, Any]]
    status: str = "bot"
    escalation: Optional[Dict[str, Any]] = None
    escalation_detail: Optional[Dict[str, Any]] = None
    # when the message was sent and the reply received (UTC)
    moments: Tuple[dt.datetime, ...] = ()
    error: Optional[str] = None

    @classmethod
    def from_response(cls, body: Dict[str, Any], moments: Tuple[dt.datetime, ...] = ()) -> "Reply":
        return cls(messages=list(body.get("messages") or []), status=body.get("status") or "bot",
                   escalation=body.get("escalation"), moments=moments)


def strip_welcome(text: str, content: Content) -> str:
    """The text without the welcome prefix it may start with (normalised)."""
    text = normalise(text)
    for prefix in content.texts.get("welcome_prefix", {}).values():
        prefix = normalise(prefix)
        if prefix and text.startswith(prefix):
            return text[len(prefix):].strip()
    return text


def reply_texts(reply: Reply, content: Content) -> List[str]:
    """Each message's text, normalised, without the welcome prefix."""
    return [strip_welcome(m.get("text") or "", content) for m in reply.messages
            if (m.get("text") or "").strip()]


def joined(reply: Reply, content: Content) -> str:
    return "\n".join(reply_texts(reply, content))


def payload_intents(reply: Reply) -> List[str]:
    """The intents of the reply's buttons ("/track_order{...}" -> "track_order")."""
    intents = []
    for message in reply.messages:
        for button in message.get("buttons") or []:
            payload = str(button.get("payload") or "").strip()
            if payload.startswith("/"):
                intents.append(re.split(r"[{@]", payload[1:], maxsplit=1)[0])
    return intents


def is_clarifying(reply: Reply, content: Content) -> bool:
    topics = set(content.topics)
    return any(intent in topics for intent in payload_intents(reply))


def handed(reply: Optional[Reply]) -> bool:
    if reply is None:
        return False
    return reply.status in HANDED_STATUSES or bool((reply.escalation or {}).get("reference"))


def handed_this_turn(reply: Reply, previous: Optional[Reply]) -> bool:
    """The conversation went to a person on this turn (not on an earlier one)."""
    if not handed(reply):
        return False
    if not handed(previous):
        return True
    reference = (reply.escalation or {}).get("reference")
    earlier = ((previous.escalation if previous else None) or {}).get("reference")
    return bool(reference and earlier and reference != earlier)


def contains_key(text: str, content: Content, key: str, min_length: int = 1) -> List[str]:
    """The languages whose text of `key` the (normalised) text contains."""
    return [lang for lang, part in content.snippets(key).items()
            if len(part) >= min_length and part in text]


def find_answer(text: str, content: Content, key: str, start: int = 0) -> int:
    """Where the answer `key` (in any language) starts in the text from `start`; -1 if not."""
    places = [text.find(part, start) for part in content.snippets(key).values() if part]
    places = [place for place in places if place >= 0]
    return min(places) if places else -1


# --- the checkers: (value, reply, context) -> None when it holds, else why not -------------

@dataclass
class TurnContext:
    content: Content
    previous: Optional[Reply] = None
    conversation_language: str = "nb"
    expect: Dict[str, Any] = field(default_factory=dict)


Verdict = Optional[str]


def check_answers(topics: Sequence[str], reply: Reply, ctx: TurnContext) -> Verdict:
    text, position = joined(reply, ctx.content), 0
    for topic in topics:
        if topic not in ctx.content.texts:
            return f"answers: unknown topic {topic}"
        found = find_answer(text, ctx.content, topic, position)
        if found < 0:
            anywhere = find_answer(text, ctx.content, topic)
            return (f"answers: {topic} out of order" if anywhere >= 0
                    else f"answers: no {topic} answer")
        position = found + 1
    return None


def check_topic(topic: str, reply: Reply, ctx: TurnContext) -> Verdict:
    text = joined(reply, ctx.content)
    keys = [topic, *ctx.content.aspect_keys(topic)]
    if not any(find_answer(text, ctx.content, key) >= 0 for key in keys):
        return f"topic: no answer on {topic}"
    if is_clarifying(reply, ctx.content):
        return f"topic: clarifying question instead of staying on {topic}"
    others = [other for other in ctx.content.topic_answers()
              if other != topic and find_answer(text, ctx.content, other) >= 0]
    if others:
        return f"topic: also answers {', '.join(others)}"
    return None


def content_languages(text: str, content: Content) -> List[set]:
    """For each content text found in the text, the languages it is written in."""
    found = []
    for key in content.texts:
        # a text identical in several languages is found in each of them
        languages = contains_key(text, content, key, MIN_LANGUAGE_SNIPPET)
        if languages:
            found.append(set(languages))
    return found


def marker_scores(text: str) -> Dict[str, float]:
    """The fallback: marker words of each language, a shared marker split between them."""
    words = re.findall(r"[a-zæøåäö]+", text.casefold())
    scores = {lang: 0.0 for lang in MARKERS}
    for word in words:
        owners = [lang for lang, markers in MARKERS.items() if word in markers]
        for lang in owners:
            scores[lang] += 1 / len(owners)
    return scores


def detect_language(reply: Reply, content: Content) -> Tuple[Optional[str], str]:
    """(language or None when undecided, how it was decided)."""
    text = joined(reply, content)
    found = content_languages(text, content)
    if found:
        common = set.intersection(*found)
        if len(common) == 1:
            return next(iter(common)), "content"
        if not common:
            mixed = sorted(set.union(*found))
            return None, f"content in {'+'.join(mixed)}"
        # texts the same in several languages ("Du er nummer"): marker words decide
        scores = {lang: score for lang, score in marker_scores(text).items() if lang in common}
        best = max(scores.values())
        winners = [lang for lang, score in scores.items() if score == best]
        if best > 0 and len(winners) == 1:
            return winners[0], "content and marker words"
        return None, f"content ambiguous ({'/'.join(sorted(common))})"
    scores = marker_scores(text)
    best = max(scores.values())
    winners = [lang for lang, score in scores.items() if score == best]
    if best == 0 or len(winners) > 1:
        return None, "no content text and no clear marker words"
    return winners[0], "marker words"


def check_language(language: str, reply: Reply, ctx: TurnContext) -> Verdict:
    if not reply_texts(reply, ctx.content):
        return f"language: no text (expected {language})"
    detected, how = detect_language(reply, ctx.content)
    if detected == language:
        return None
    return f"language: {detected or 'undecided'} by {how}, expected {language}"


def check_handoff(expected: bool, reply: Reply, ctx: TurnContext) -> Verdict:
    actual = handed_this_turn(reply, ctx.previous)
    if actual == bool(expected):
        return None
    return "handoff: expected a hand-off" if expected else f"handoff: unexpected ({reply.status})"


def check_handoff_reason(reason: str, reply: Reply, ctx: TurnContext) -> Verdict:
    if reply.escalation_detail is None:
        return f"handoff_reason: no escalation (expected {reason})"
    actual = reply.escalation_detail.get("reason")
    if actual == reason:
        return None
    earlier = "" if handed_this_turn(reply, ctx.previous) or not handed(ctx.previous) \
        else " (the escalation of an earlier turn)"
    return f"handoff_reason: {actual}{earlier}, expected {reason}"


def normalise_order_number(value: Any) -> str:
    """'NH-40918273', 'NH40918273', '#nh 40918273' and '40918273' are the same order."""
    text = re.sub(r"\s+", "", str(value)).upper().lstrip("#")
    return re.sub(r"^NH-?", "", text)


def normalise_phone(value: Any) -> str:
    return re.sub(r"[\s-]", "", str(value))


def same_detail(key: str, expected: Any, actual: Any) -> bool:
    if actual is None:
        return False
    if key == "order_number":
        return normalise_order_number(expected) == normalise_order_number(actual)
    if key == "phone":
        return normalise_phone(expected) == normalise_phone(actual)
    return str(expected).strip().casefold() == str(actual).strip().casefold()


def check_details(details: Dict[str, Any], reply: Reply, ctx: TurnContext) -> Verdict:
    if reply.escalation_detail is None:
        return "details: no escalation"
    actual = reply.escalation_detail.get("details") or {}
    wrong = [f"{key}={actual.get(key)!r} (expected {value!r})" for key, value in details.items()
             if not same_detail(key, value, actual.get(key))]
    return f"details: {', '.join(wrong)}" if wrong else None


def asks_order_number(reply: Reply, content: Content) -> bool:
    text = joined(reply, content)
    if "ask_order_number" in content.texts and contains_key(text, content, "ask_order_number"):
        return True
    return any(pattern.search(part) for part in reply_texts(reply, content)
               for pattern in ASKS_ORDER_NUMBER)


def check_asks_order_number(expected: bool, reply: Reply, ctx: TurnContext) -> Verdict:
    actual = asks_order_number(reply, ctx.content)
    if actual == bool(expected):
        return None
    return "asks_order_number: asks for it" if actual else "asks_order_number: does not ask"


def check_clarifies(expected: bool, reply: Reply, ctx: TurnContext) -> Verdict:
    actual = is_clarifying(reply, ctx.content)
    if actual == bool(expected):
        return None
    return "clarifies: a clarifying question" if actual else "clarifies: no clarifying question"


def check_offers_person(expected: bool, reply: Reply, ctx: TurnContext) -> Verdict:
    actual = REQUEST_HUMAN in payload_intents(reply) or handed(reply)
    if actual == bool(expected):
        return None
    return "offers_person: no person offered" if expected else "offers_person: offers a person"


def check_repeats_previous(expected: bool, reply: Reply, ctx: TurnContext) -> Verdict:
    exempt = {normalise(text) for key in REPEATABLE_KEYS
              for text in ctx.content.texts.get(key, {}).values()}
    before = set(reply_texts(ctx.previous, ctx.content)) if ctx.previous else set()
    repeated = [text for text in reply_texts(reply, ctx.content)
                if text in before and text not in exempt]
    if bool(repeated) == bool(expected):
        return None
    if repeated:
        return f"repeats_previous: repeats \"{repeated[0][:50]}...\""
    return "repeats_previous: does not repeat"


def check_contains_any(needles: Sequence[str], reply: Reply, ctx: TurnContext) -> Verdict:
    text = joined(reply, ctx.content)
    if any(normalise(needle) in text for needle in needles):
        return None
    return f"contains_any: none of {list(needles)}"


def check_not_contains(needles: Sequence[str], reply: Reply, ctx: TurnContext) -> Verdict:
    text = joined(reply, ctx.content)
    found = [needle for needle in needles if normalise(needle) in text]
    return f"not_contains: contains {found}" if found else None


def handoff_language(reply: Reply, ctx: TurnContext) -> str:
    """The country whose opening hours apply: the escalation's language, else the turn's
    expected language, else the conversation's."""
    language = (reply.escalation_detail or {}).get("language") or ctx.expect.get("language")
    return language if language in LANGUAGES else ctx.conversation_language


def open_at(language: str, moment: dt.datetime) -> bool:
    from core.opening_hours import opening

    return opening(language, moment)[0]


def check_truthful_handoff(expected: bool, reply: Reply, ctx: TurnContext,
                           is_open: Callable[[str, dt.datetime], bool] = open_at) -> Verdict:
    if not expected:
        return None
    if not handed_this_turn(reply, ctx.previous):
        return "truthful_handoff: no hand-off"
    raw = "\n".join(m.get("text") or "" for m in reply.messages)
    if not REFERENCE.search(raw):
        return "truthful_handoff: no reference"
    language = handoff_language(reply, ctx)
    says_closed = any(pattern.search(raw) for pattern in CLOSED_WORDS.values())
    moments = reply.moments or (dt.datetime.now(dt.timezone.utc),)
    # true at the moment the message was sent or answered (an opening in between is fine)
    if not any(says_closed == (not is_open(language, moment)) for moment in moments):
        return ("truthful_handoff: says closed while open" if says_closed
                else "truthful_handoff: closed but does not say so")
    for match in MINUTES.finditer(raw):
        number, plural = int(match.group(1)), bool(match.group(3))
        if plural == (number == 1):
            return f"truthful_handoff: wrong plural \"{match.group(0)}\""
    return None


CHECKS: Dict[str, Callable[[Any, Reply, TurnContext], Verdict]] = {
    "answers": check_answers,
    "topic": check_topic,
    "language": check_language,
    "handoff": check_handoff,
    "handoff_reason": check_handoff_reason,
    "details": check_details,
    "asks_order_number": check_asks_order_number,
    "clarifies": check_clarifies,
    "offers_person": check_offers_person,
    "repeats_previous": check_repeats_previous,
    "contains_any": check_contains_any,
    "not_contains": check_not_contains,
    "truthful_handoff": check_truthful_handoff,
}
# expectations that need the escalation as an agent sees it
NEEDS_ESCALATION = ("handoff_reason", "details", "truthful_handoff")


def check_turn(expect: Dict[str, Any], reply: Reply, previous: Optional[Reply] = None,
               conversation_language: str = "nb",
               content: Optional[Content] = None) -> List[str]:
    """Every expectation of the turn that does not hold, with why (empty: the turn passes)."""
    ctx = TurnContext(content or default_content(), previous, conversation_language, expect)
    if reply.error:
        return [f"error: {reply.error}"]
    failures = []
    for key, value in expect.items():
        check = CHECKS.get(key)
        verdict = check(value, reply, ctx) if check else f"unknown expectation {key}"
        if verdict:
            failures.append(verdict)
    return failures


# --- the held-out set ----------------------------------------------------------------------

def load_conversations(languages: Iterable[str] = LANGUAGES,
                       only: Optional[Sequence[str]] = None) -> List[Dict[str, Any]]:
    conversations = []
    for language in languages:
        data = yaml.safe_load((BENCH_DIR / f"{language}.yml").read_text(encoding="utf-8"))
        conversations += data.get("conversations") or []
    if only:
        conversations = [c for c in conversations if c["id"] in only]
    return conversations


# --- running against the service (httpx, .venv-api only) ----------------------------------

class Service:
    """A customer and an agent talking to the service over its public HTTP contract."""

    def __init__(self, url: str, agent_token: str, timeout: float = 60) -> None:
        import httpx

        self.client = httpx.Client(base_url=url.rstrip("/"), timeout=timeout)
        self.agent = {"Authorization": f"Bearer {agent_token}"}

    def close(self) -> None:
        self.client.close()

    def start(self, language: str) -> Tuple[str, str]:
        response = self.client.post("/api/conversations", json={"language": language})
        if response.status_code == 429:
            raise RuntimeError("the service's rate limits stop the benchmark: raise its "
                               "NORDHEM_RATE_LIMIT_* settings for the run")
        response.raise_for_status()
        body = response.json()
        return body["conversation_id"], body["customer_token"]

    def say(self, conversation_id: str, token: str, text: str) -> Reply:
        sent = dt.datetime.now(dt.timezone.utc)
        response = self.client.post(f"/api/conversations/{conversation_id}/messages",
                                    json={"text": text},
                                    headers={"Authorization": f"Bearer {token}"})
        received = dt.datetime.now(dt.timezone.utc)
        if response.status_code != 200:
            return Reply([], error=f"HTTP {response.status_code}: {response.text[:120]}",
                         moments=(sent, received))
        return Reply.from_response(response.json(), (sent, received))

    def escalation(self, conversation_id: str, wait_seconds: float = 3.0) -> Optional[Dict[str, Any]]:
        """The latest open escalation of the conversation, as an agent sees it."""
        deadline = time.monotonic() + wait_seconds
        while True:
            response = self.client.get("/api/escalations", params={"status": "open"},
                                       headers=self.agent)
            response.raise_for_status()
            mine = [e for e in response.json() if e.get("conversation_id") == conversation_id]
            if mine:
                latest = max(mine, key=lambda e: e["id"])
                detail = self.client.get(f"/api/escalations/{latest['id']}", headers=self.agent)
                detail.raise_for_status()
                return detail.json()
            if time.monotonic() > deadline:
                return None
            time.sleep(0.2)

    def resolve_all(self, conversation_id: str) -> None:
        """Close the conversation's open escalations, so that the next one meets an empty queue."""
        response = self.client.get("/api/escalations", params={"status": "open"}, headers=self.agent)
        if response.status_code != 200:
            return
        for item in response.json():
            if item.get("conversation_id") == conversation_id:
                self.client.post(f"/api/escalations/{item['id']}/resolve",
                                 json={"return_to_bot": False}, headers=self.agent)


def run_conversation(service: Service, conversation: Dict[str, Any],
                     content: Content) -> Dict[str, Any]:
    language = conversation.get("language") or "nb"
    result: Dict[str, Any] = {"id": conversation["id"], "kind": conversation.get("kind", "?"),
                              "language": language, "passed": True, "failures": [],
                              "transcript": []}
    try:
        conversation_id, token = service.start(language)
    except Exception as error:  # a benchmark records it and goes on
        result.update(passed=False, failures=[{"turn": 1, "user": "", "why": [f"start: {error}"]}])
        return result
    previous: Optional[Reply] = None
    for number, turn in enumerate(conversation.get("turns") or [], start=1):
        expect = turn.get("expect") or {}
        try:
            reply = service.say(conversation_id, token, turn["user"])
            if not reply.error and (handed(reply) or any(k in expect for k in NEEDS_ESCALATION)):
                reply.escalation_detail = service.escalation(
                    conversation_id, wait_seconds=3.0 if handed(reply) else 0.0)
        except Exception as error:  # recorded as the turn's failure
            reply = Reply([], error=f"{type(error).__name__}: {error}")
        why = check_turn(expect, reply, previous, language, content)
        result["transcript"].append({
            "user": turn["user"], "status": reply.status, "error": reply.error,
            "bot": [m.get("text") for m in reply.messages],
            "buttons": [b.get("payload") for m in reply.messages for b in m.get("buttons") or []],
            "reference": (reply.escalation or {}).get("reference"),
            "reason": (reply.escalation_detail or {}).get("reason"),
            "details": (reply.escalation_detail or {}).get("details"),
        })
        if why:
            result["passed"] = False
            result["failures"].append({"turn": number, "user": turn["user"], "why": why})
        previous = reply
    with contextlib.suppress(Exception):  # best effort between conversations
        service.resolve_all(conversation_id)
    return result


def run_all(service: Service, conversations: List[Dict[str, Any]], content: Content,
            verbose: bool = True) -> List[Dict[str, Any]]:
    results = []
    for conversation in conversations:
        result = run_conversation(service, conversation, content)
        results.append(result)
        if verbose:
            print(f"  {'pass' if result['passed'] else 'FAIL'}  {result['id']}", flush=True)
    return results


# --- report --------------------------------------------------------------------------------

def summarise(results: List[Dict[str, Any]]) -> Dict[str, Any]:
    cells: Dict[Tuple[str, str], List[bool]] = defaultdict(list)
    for result in results:
        cells[(result["kind"], result["language"])].append(result["passed"])
    kinds = sorted({kind for kind, _ in cells})
    languages = [lang for lang in LANGUAGES if any(lang == lg for _, lg in cells)]

    def rate(values: List[bool]) -> Dict[str, Any]:
        return {"passed": sum(values), "total": len(values),
                "rate": round(sum(values) / len(values), 3) if values else None}

    table = {kind: {lang: rate(cells[(kind, lang)]) for lang in languages} for kind in kinds}
    by_kind = {kind: rate([p for (k, _), v in cells.items() if k == kind for p in v])
               for kind in kinds}
    by_language = {lang: rate([p for (_, lg), v in cells.items() if lg == lang for p in v])
                   for lang in languages}
    total = rate([r["passed"] for r in results])
    return {"table": table, "by_kind": by_kind, "by_language": by_language, "total": total,
            "languages": languages, "kinds": kinds}


def _cell(value: Dict[str, Any]) -> str:
    if not value["total"]:
        return "-"
    return f"{value['passed']}/{value['total']} ({value['rate']:.0%})"


def print_report(summary: Dict[str, Any], results: List[Dict[str, Any]], seconds: float) -> None:
    languages = summary["languages"]
    print("\n### Dialogue benchmark: conversations passed per kind and language")
    print("| kind | " + " | ".join(languages) + " | total |")
    print("|---" * (len(languages) + 2) + "|")
    for kind in summary["kinds"]:
        cells = [_cell(summary["table"][kind][lang]) for lang in languages]
        print(f"| {kind} | " + " | ".join(cells) + f" | {_cell(summary['by_kind'][kind])} |")
    cells = [_cell(summary["by_language"][lang]) for lang in languages]
    print("| **total** | " + " | ".join(cells) + f" | {_cell(summary['total'])} |")
    failing = [r for r in results if not r["passed"]]
    if failing:
        print(f"\nFailing conversations ({len(failing)}): first failing turn and why")
        for result in failing:
            first = result["failures"][0]
            user = first["user"] if len(first["user"]) <= 50 else first["user"][:47] + "..."
            print(f"  {result['id']}  turn {first['turn']} \"{user}\": {'; '.join(first['why'])}")
    print(f"\n{len(results)} conversations in {seconds:.0f} s")


def write_results(path: Path, summary: Dict[str, Any], results: List[Dict[str, Any]],
                  seconds: float, url: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "service": url, "seconds": round(seconds, 1), "summary": summary,
            "conversations": results}
    path.write_text(json.dumps(body, indent=2, ensure_ascii=False), encoding="utf-8")


def seed_order_store(directory: Path) -> Dict[str, str]:
    """A fresh demo order store in `directory`, and the action server's environment that
    points at it: the conversations cancel demo orders, so each run starts from the seed.

    Seeded with the bot's Python (the service's environment cannot import the actions);
    NORDHEM_ORDERS_URL is cleared so that a shop's API in the caller's environment is not used.
    """
    path = directory / "orders.db"
    done = subprocess.run([str(BOT_PYTHON), "-m", "actions.orders", "seed", "--db", str(path),
                           "--force"], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True)
    if done.returncode != 0 or not path.exists():
        raise RuntimeError(f"the demo order store was not seeded: {done.stderr or done.stdout}")
    return {"NORDHEM_ORDERS_DB": str(path), "NORDHEM_ORDERS_URL": ""}


def _stack_helpers() -> Tuple[Any, Any]:
    """add_agent and make_settings, from wherever the test support keeps them now."""
    if importlib.util.find_spec("tests.support.api") is not None:
        from tests.support.api import add_agent, make_settings  # type: ignore[import-not-found]
    else:
        from tests.api.conftest import add_agent, make_settings
    return add_agent, make_settings


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", action="append", default=[],
                        help="run only this conversation id (repeatable, or comma-separated)")
    parser.add_argument("--lang", choices=LANGUAGES, action="append",
                        help="only this language's conversations (repeatable)")
    parser.add_argument("--url", help="an already running service instead of starting the stack")
    parser.add_argument("--agent-token", help="agent token for --url (reads escalations)")
    parser.add_argument("--out", type=Path, default=RESULTS / "bench_dialogue.json")
    parser.add_argument("--quiet", action="store_true", help="no line per conversation")
    args = parser.parse_args(argv)
    if args.url and not args.agent_token:
        parser.error("--url needs --agent-token")
    only = [item for value in args.only for item in value.split(",") if item]
    conversations = load_conversations(args.lang or LANGUAGES, only)
    if not conversations:
        print("no conversations selected", file=sys.stderr)
        return 0
    content = default_content()
    started = time.monotonic()
    if args.url:
        url = args.url
        service = Service(url, args.agent_token)
        try:
            results = run_all(service, conversations, content, not args.quiet)
        finally:
            service.close()
    else:
        sys.path.insert(0, str(ROOT))
        from tests.support.stack import running_stack

        add_agent, make_settings = _stack_helpers()
        workdir = Path(tempfile.mkdtemp(prefix="bench-dialogue-"))
        print(f"==> starting Rasa, actions (a fresh demo order store) and the service "
              f"(logs in {workdir})", flush=True)
        try:
            actions_env = seed_order_store(workdir)
            with running_stack(workdir, actions_env=actions_env) as stack:
                url = stack.api
                token = add_agent(make_settings(stack.database_url), "Bench")
                print(f"==> ready in {time.monotonic() - started:.0f} s; "
                      f"{len(conversations)} conversations", flush=True)
                service = Service(url, token)
                try:
                    results = run_all(service, conversations, content, not args.quiet)
                finally:
                    service.close()
        except RuntimeError as error:
            print(f"error: the stack did not start: {error}", file=sys.stderr)
            return 1
    seconds = time.monotonic() - started
    summary = summarise(results)
    print_report(summary, results, seconds)
    write_results(args.out, summary, results, seconds, url)
    print(f"results: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
