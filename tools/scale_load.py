"""Customers as the widget behaves, for the scaled tests and `make bench-scale`: each
conversation sends its messages one after another, each with its own client_message_id,
and sends a message again (same id) after a refusal (429, 503, or 409 while the first
attempt is still being answered), a gateway error (502, 504: the process behind the front
died) or a broken connection, until it is answered or `give_up_seconds` have passed.

`audit` then reads the service's database: a message the customer sent is *lost* when it
is not stored or got no answer, and *duplicated* when it is stored more than once.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

import httpx
from sqlalchemy import create_engine, text

from tools.bench import ClientPool

# phrasings customers use, in the three languages (each conversation takes one language)
MESSAGES = {
    "nb": ["hei", "hvor er pakken min?", "hvor lang er leveringstiden?", "kan jeg returnere en jakke?",
           "hva koster frakt?", "takk for hjelpen"],
    "da": ["hej", "hvor er min pakke?", "hvad koster fragt?", "kan jeg bytte en vare?",
           "hvornår kommer min ordre?", "tak for hjælpen"],
    "sv": ["hej", "var är mitt paket?", "vad kostar frakten?", "kan jag returnera en tröja?",
           "hur lång är leveranstiden?", "tack för hjälpen"],
}
AGAIN = frozenset({409, 429, 502, 503, 504})


@dataclass
class Sent:
    """One customer message and what became of it."""

    conversation_id: str
    client_message_id: str
    text: str
    attempts: int = 0
    answered: bool = False
    refusals: int = 0
    # from the first attempt: until the answer, and until the first answer or refusal
    answer_ms: Optional[float] = None
    first_response_ms: Optional[float] = None
    statuses: list[int] = field(default_factory=list)


@dataclass
class Load:
    """What a run of customers did."""

    sent: list[Sent]
    conversations: int
    failed_starts: int
    seconds: float

    @property
    def answered(self) -> list[Sent]:
        return [s for s in self.sent if s.answered]


async def _start(http: Any, front: str, language: str,
                 give_up: float) -> Optional[tuple[str, str]]:
    while time.monotonic() < give_up:
        try:
            response = await http.post(f"{front}/api/conversations", json={"language": language})
            if response.status_code == 201:
                body = response.json()
                return body["conversation_id"], body["customer_token"]
            await asyncio.sleep(_retry_after(response))
        except httpx.HTTPError:
            await asyncio.sleep(0.5)
    return None


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(5.0, max(0.2, float(response.headers.get("Retry-After", "0.5"))))
    except ValueError:
        return 0.5


async def send(http: Any, front: str, conversation: tuple[str, str],
               text_: str, give_up_seconds: float) -> Sent:
    """One message, repeated with the same client_message_id until answered."""
    conversation_id, token = conversation
    sent = Sent(conversation_id, uuid.uuid4().hex, text_)
    started = time.monotonic()
    while time.monotonic() - started < give_up_seconds:
        sent.attempts += 1
        try:
            response = await http.post(
                f"{front}/api/conversations/{conversation_id}/messages",
                json={"text": text_, "client_message_id": sent.client_message_id},
                headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError:
            sent.statuses.append(0)
            await asyncio.sleep(0.5)
            continue
        elapsed = (time.monotonic() - started) * 1000
        sent.statuses.append(response.status_code)
        if sent.first_response_ms is None:
            sent.first_response_ms = elapsed
        if response.status_code == 200:
            sent.answered, sent.answer_ms = True, elapsed
            return sent
        if response.status_code not in AGAIN:
            return sent  # a refusal that repeating cannot change
        sent.refusals += 1
        await asyncio.sleep(_retry_after(response))
    return sent


async def customer(http: Any, front: str, language: str, messages: int,
                   think_seconds: float, give_up_seconds: float,
                   rng: random.Random) -> tuple[list[Sent], bool]:
    conversation = await _start(http, front, language, time.monotonic() + give_up_seconds)
    if conversation is None:
        return [], False
    results = []
    for _ in range(messages):
        results.append(await send(http, front, conversation, rng.choice(MESSAGES[language]),
                                  give_up_seconds))
        await asyncio.sleep(think_seconds * rng.uniform(0.5, 1.5))
    return results, True


async def run_customers(front: str, conversations: int, messages: int,
                        think_seconds: float = 1.0, give_up_seconds: float = 60,
                        seed: int = 7, ramp_seconds: float = 2.0) -> Load:
    """`conversations` customers at once (started over `ramp_seconds`), each sending
    `messages` messages `think_seconds` apart (on average)."""
    rng = random.Random(seed)
    languages = list(MESSAGES)
    async with ClientPool() as http:
        async def one(index: int) -> tuple[list[Sent], bool]:
            await asyncio.sleep(ramp_seconds * index / max(1, conversations))
            return await customer(http, front, languages[index % 3], messages, think_seconds,
                                  give_up_seconds, random.Random(rng.random()))
        started = time.monotonic()
        outcomes = await asyncio.gather(*(one(index) for index in range(conversations)))
    sent = [item for results, _ in outcomes for item in results]
    return Load(sent, conversations, sum(not ok for _, ok in outcomes),
                time.monotonic() - started)


@dataclass(frozen=True)
class Audit:
    sent: int
    lost: int        # not stored, or stored without an answer, or never answered
    duplicated: int  # stored more than once
    tracker_duplicates: int  # customer messages Rasa's tracker store holds more than once
    # answered, but by the service's "the bot is not answering" notice, not by the bot
    bot_silent: int = 0


def audit(database_url: str, load: Load, tracker_url: Optional[str] = None) -> Audit:
    """Compare what the customers sent with what the service (and Rasa) stored."""
    engine = create_engine(database_url)
    ids = [s.client_message_id for s in load.sent]
    with engine.connect() as connection:
        stored = dict(connection.execute(text(
            "SELECT client_message_id, count(*) FROM messages WHERE sender = 'customer' "
            "AND client_message_id IS NOT NULL GROUP BY client_message_id")).all())
        replies = connection.execute(text(
            "SELECT m.client_message_id, r.sender FROM messages m JOIN messages r "
            "ON r.reply_to = m.id WHERE m.client_message_id IS NOT NULL")).all()
    answered = {client_id for client_id, _ in replies}
    by_bot = {client_id for client_id, sender in replies if sender == "bot"}
    engine.dispose()
    lost = sum(1 for s in load.sent
               if not s.answered or stored.get(s.client_message_id, 0) == 0
               or s.client_message_id not in answered)
    duplicated = sum(1 for i in ids if stored.get(i, 0) > 1)
    return Audit(len(ids), lost, duplicated, tracker_duplicates(tracker_url, load.sent)
                 if tracker_url else 0,
                 sum(1 for s in load.sent if s.client_message_id in answered - by_bot))


def tracker_duplicates(tracker_url: str, sent: Sequence[Sent]) -> int:
    """Customer messages of these conversations that Rasa's tracker store holds more often
    than the customers sent them (a message Rasa handled twice)."""
    expected: dict[str, int] = {}
    for s in sent:
        expected[s.conversation_id] = expected.get(s.conversation_id, 0) + 1
    engine = create_engine(tracker_url)
    with engine.connect() as connection:
        counts = dict(connection.execute(text(
            "SELECT sender_id, count(*) FROM events WHERE type_name = 'user' "
            "GROUP BY sender_id")).all())
    engine.dispose()
    return sum(max(0, counts.get(cid, 0) - n) for cid, n in expected.items())
