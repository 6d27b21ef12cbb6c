"""Things that happen (escalation.created, message.created, ...) and who listens.

A service function changes rows and calls `publish(session, event)` for what happened.
`publish` runs the *writers* at once, inside the caller's transaction (the outbox rows of the
helpdesk webhooks: committed with the change they report, or not at all), and keeps the
event on the session. When the session commits, SQLAlchemy's `after_commit` session event
hands the kept events, in order, to the *listeners*: the WebSocket pushes to agents and to
the customer, the metrics, the queue places. On a rollback (or a session closed without
commit) they are dropped, so no one hears of a change that did not happen.

We use the session events rather than an explicit publish-then-commit helper so that no
caller can commit and forget to deliver, or deliver what it then rolls back. A listener runs
after the commit, in the thread that committed; it must not block and cannot undo anything,
so its errors are logged, never raised into the request that caused the event.

Adding a consumer (say, a CSAT survey when an escalation is resolved) is one listener:
`hub.events.listen(survey)`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Optional, Union

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from api.schemas import EscalationSummary, MessageOut
from core.vocabulary import ConversationStatus

logger = logging.getLogger(__name__)
EVENTS_KEY = "nordhem.events"
PENDING_KEY = "nordhem.pending_events"


# ---------- what happens ----------

@dataclass(frozen=True)
class ConversationStarted:
    conversation_id: str
    language: Optional[str]


@dataclass(frozen=True)
class MessageCreated:
    """Any message stored in a conversation; `escalation_id`, `reference` and the
    escalation's `language` (whose agents may read it) while escalated."""

    conversation_id: str
    message: MessageOut
    escalation_id: Optional[int] = None
    reference: Optional[str] = None
    language: Optional[str] = None


@dataclass(frozen=True)
class EscalationCreated:
    escalation: EscalationSummary
    details: dict[str, Any] = field(default_factory=dict)
    transcript: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class EscalationClaimed:
    escalation: EscalationSummary


@dataclass(frozen=True)
class EscalationResolved:
    escalation: EscalationSummary
    conversation_status: ConversationStatus
    return_to_bot: bool


@dataclass(frozen=True)
class ConversationErased:
    """A conversation's data is gone (api/services/erasure.py): what is left to tell who
    still shows it, the customer's widget, the consoles and the helpdesks."""

    conversation_id: str
    language: Optional[str]
    escalation_ids: tuple[int, ...] = ()
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class CsatRequested:
    """The customer is asked to rate the conversation (once: api/services/csat.py)."""

    conversation_id: str
    language: str


@dataclass(frozen=True)
class CsatSubmitted:
    """The customer rated the conversation, or skipped; `rating` is the webhook's body."""

    conversation_id: str
    escalation_id: Optional[int]
    rating: dict[str, Any]


@dataclass(frozen=True)
class Typing:
    """Someone is typing: not stored, so it is emitted at once, not published."""

    conversation_id: str
    escalation_id: int
    sender: Literal["agent", "customer"]
    agent_name: Optional[str] = None


Event = Union[ConversationStarted, MessageCreated, EscalationCreated, EscalationClaimed,
              EscalationResolved, ConversationErased, CsatRequested, CsatSubmitted, Typing]
# events after which the places of the waiting customers may have changed
QUEUE_CHANGES = (EscalationCreated, EscalationClaimed, EscalationResolved, ConversationErased)

Listener = Callable[[Event], None]
Writer = Callable[[Session, Event], None]


# ---------- who listens ----------

class Events:
    """Writers (in the transaction) and listeners (after commit) of one app."""

    def __init__(self) -> None:
        self._writers: list[Writer] = []
        self._listeners: list[Listener] = []

    def write_with(self, writer: Writer) -> None:
        """Run `writer(session, event)` inside the transaction of every publish."""
        self._writers.append(writer)

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(event)` after each commit that published events; returns a function
        that removes the listener again."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def attach(self, sessions: sessionmaker[Session]) -> None:
        """Make `publish` work on the sessions of this factory."""
        sessions.configure(info={EVENTS_KEY: self})
        sa_event.listen(sessions, "after_commit", self._after_commit)
        sa_event.listen(sessions, "after_transaction_end", self._after_transaction_end)

    def stage(self, session: Session, event: Event) -> None:
        for writer in self._writers:
            writer(session, event)
        session.info.setdefault(PENDING_KEY, []).append(event)

    def emit(self, event: Event) -> None:
        """Hand an event that changes nothing stored to the listeners now."""
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # noqa: BLE001 - a listener must not fail the request
                logger.exception("listener %r failed on %s", listener, type(event).__name__)

    def _after_commit(self, session: Session) -> None:
        for event in session.info.pop(PENDING_KEY, []):
            self.emit(event)

    @staticmethod
    def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:  # rolled back or closed: nothing happened
            session.info.pop(PENDING_KEY, None)


def publish(session: Session, event: Event) -> None:
    """Record that `event` happens in the session's transaction (see the module docstring)."""
    events = session.info.get(EVENTS_KEY)
    if not isinstance(events, Events):
        raise RuntimeError("publish needs a session from a factory with Events attached")
    events.stage(session, event)


# ---------- the in-process WebSocket fan-out, fed by the live-updates listener ----------

class EventBus:
    """In-process fan-out to WebSocket queues: per conversation and to all agents.

    Publishing is safe from any thread (database work runs in worker threads); the
    queues are filled on the event loop that created the bus.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop or asyncio.get_running_loop()
        self._conversations: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        # each console's queue, and the escalation languages its agent takes (None: all)
        self._agents: dict[asyncio.Queue[dict[str, Any]], Optional[frozenset[str]]] = {}

    async def start(self) -> None:
        """Nothing to start in-process (api/relay.py's bus subscribes to Redis here)."""

    async def close(self) -> None:
        """Nothing to release in-process."""

    def subscribe_conversation(self, conversation_id: str) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
        self._conversations[conversation_id].add(queue)
        return queue

    def unsubscribe_conversation(self, conversation_id: str,
                                 queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._conversations[conversation_id].discard(queue)
        if not self._conversations[conversation_id]:
            del self._conversations[conversation_id]

    def subscribe_agents(self, languages: Optional[frozenset[str]] = None
                         ) -> asyncio.Queue[dict[str, Any]]:
        """A console's queue: events about escalations in `languages` only (None: all)."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
        self._agents[queue] = languages
        return queue

    def unsubscribe_agents(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._agents.pop(queue, None)

    @staticmethod
    def _put(queue: asyncio.Queue[dict[str, Any]], event: dict[str, Any]) -> None:
        # a stuck client loses live events; it resyncs from the history when it reconnects
        with contextlib.suppress(asyncio.QueueFull):
            queue.put_nowait(event)

    def _offer(self, queue: asyncio.Queue[dict[str, Any]], event: dict[str, Any]) -> None:
        try:
            on_loop = asyncio.get_running_loop() is self._loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            self._put(queue, event)
        else:
            self._loop.call_soon_threadsafe(self._put, queue, event)

    def to_conversation(self, conversation_id: str, event: dict[str, Any]) -> None:
        for queue in list(self._conversations.get(conversation_id, ())):
            self._offer(queue, event)

    def to_agents(self, event: dict[str, Any], language: Optional[str] = None) -> None:
        """To every console, or with `language` to those whose agent takes that language:
        an agent does not receive what customers of other languages' queues write."""
        for queue, languages in list(self._agents.items()):
            if language is None or languages is None or language in languages:
                self._offer(queue, event)

    @property
    def agents_connected(self) -> int:
        return len(self._agents)
