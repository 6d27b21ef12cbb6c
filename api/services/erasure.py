"""Erasing one conversation everywhere, and the record that it happened.

Everywhere is the service's rows (messages, escalations, the conversation), the helpdesk
outbox's events about it, and its events in Rasa's tracker store. The tracker store is
Rasa's SQL store (bot/endpoints.yml), reached with plain SQL on NORDHEM_TRACKER_STORE_URL:
the service may not import Rasa (the contracts in pyproject.toml), and deleting the
sender's rows of Rasa's `events` table is all it takes.

The tracker's events go first. If that fails, nothing in the service has changed and the
erasure can simply be run again; the service's rows then go in one transaction with the
record of the erasure, which keeps no personal data (api/models.py `Erasure`).
"""

from __future__ import annotations

import datetime as dt
import logging
from enum import Enum
from pathlib import Path
from typing import Any, Optional, cast

import sqlalchemy as sa
from sqlalchemy import CursorResult, delete, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from api.errors import ServiceError
from api.events import ConversationErased, publish
from api.models import Agent, Conversation, CsatSurvey, Erasure, Escalation, Message, OutboxEvent
from api.services import escalations
from core.vocabulary import EscalationStatus, HandoffReason

logger = logging.getLogger(__name__)
# Rasa's SQLTrackerStore: one row per event, `sender_id` the conversation's id
TRACKER_EVENTS = sa.table("events", sa.column("sender_id", sa.String()),
                          sa.column("timestamp", sa.Float()))


class Requester(str, Enum):
    """Who asked for an erasure (kept in the record)."""

    AGENT = "agent"          # an agent confirmed the customer's erasure request
    OPERATOR = "operator"    # python -m api erase
    RETENTION = "retention"  # no activity for NORDHEM_RETENTION_DAYS


class ErasureError(ServiceError):
    """An erasure the request does not allow (404, 409)."""


conversation_hash = escalations.erased_conversation_hash


class TrackerStore:
    """Rasa's SQL tracker store, for deleting a conversation's events and finding idle ones.

    A SQLite file that does not exist yet, or a database without Rasa's table, holds
    nothing to erase.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Optional[Engine] = None

    def _sqlite_file_missing(self) -> bool:
        parsed = make_url(self.url)
        if parsed.get_backend_name() != "sqlite":
            return False
        return not parsed.database or parsed.database == ":memory:" \
            or not Path(parsed.database).exists()

    def _ready(self) -> Optional[Engine]:
        if self._sqlite_file_missing():
            return None  # never create Rasa's file: Rasa has not stored anything yet
        if self._engine is None:
            sqlite = self.url.startswith("sqlite")
            # Rasa writes to the same SQLite file: wait for its lock rather than fail
            self._engine = sa.create_engine(self.url, connect_args={"timeout": 30} if sqlite else {},
                                            pool_pre_ping=not sqlite)
        return self._engine if sa.inspect(self._engine).has_table("events") else None

    def erase(self, sender_id: str) -> int:
        """Delete the conversation's events; how many there were."""
        engine = self._ready()
        if engine is None:
            return 0
        with engine.begin() as connection:
            result = connection.execute(delete(TRACKER_EVENTS)
                                        .where(TRACKER_EVENTS.c.sender_id == sender_id))
            return int(result.rowcount or 0)

    def idle_senders(self, before: dt.datetime, limit: int) -> list[str]:
        """Conversations whose latest event is older than `before`."""
        engine = self._ready()
        if engine is None:
            return []
        with engine.connect() as connection:
            return list(connection.scalars(
                select(TRACKER_EVENTS.c.sender_id).group_by(TRACKER_EVENTS.c.sender_id)
                .having(sa.func.max(TRACKER_EVENTS.c.timestamp) < before.timestamp())
                .order_by(TRACKER_EVENTS.c.sender_id).limit(limit)))

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def _deleted(session: Session, statement: Any) -> int:
    return int(cast(CursorResult[Any], session.execute(statement)).rowcount or 0)


def erase(session: Session, conversation_id: str, tracker: TrackerStore, requested_by: Requester,
          now: dt.datetime, agent_id: Optional[int] = None) -> Optional[Erasure]:
    """Erase the conversation everywhere and record it; None when nothing of it was left
    anywhere (an unknown id, or one erased before)."""
    tracker_events = tracker.erase(conversation_id)
    # locked on PostgreSQL: a second erasure of the same conversation waits, then finds nothing
    conversation = session.get(Conversation, conversation_id, with_for_update=True)
    found = session.execute(select(Escalation.id, Escalation.reference)
                            .where(Escalation.conversation_id == conversation_id)
                            .order_by(Escalation.id)).all()
    messages = _deleted(session, delete(Message).where(Message.conversation_id == conversation_id))
    # the rating goes too: its comment is the customer's words (before the escalations it names)
    session.execute(delete(CsatSurvey).where(CsatSurvey.conversation_id == conversation_id))
    erased_escalations = _deleted(session, delete(Escalation)
                                  .where(Escalation.conversation_id == conversation_id))
    outbox_events = _deleted(session, delete(OutboxEvent)
                             .where(OutboxEvent.conversation_id == conversation_id))
    language = conversation.language if conversation is not None else None
    conversations = _deleted(session, delete(Conversation).where(Conversation.id == conversation_id))
    if not (conversations or tracker_events or messages or erased_escalations or outbox_events):
        session.rollback()
        return None
    record = Erasure(conversation_hash=conversation_hash(conversation_id),
                     escalation_references=[reference for _, reference in found],
                     requested_by=requested_by.value, agent_id=agent_id, erased_at=now,
                     messages=messages, escalations=erased_escalations,
                     outbox_events=outbox_events, tracker_events=tracker_events)
    session.add(record)
    if conversations or found:  # someone may still show it: the chat, consoles, helpdesks
        publish(session, ConversationErased(conversation_id, language,
                                            tuple(escalation_id for escalation_id, _ in found),
                                            tuple(reference for _, reference in found)))
    session.commit()
    # a bot turn that was under way may have written the tracker again meanwhile
    late_events = tracker.erase(conversation_id)
    if late_events:
        record.tracker_events += late_events
        session.commit()
    logger.info("erased a conversation (%s): %s messages, %s escalations, %s outbox events, "
                "%s tracker events", requested_by.value, messages, erased_escalations,
                outbox_events, tracker_events)
    return record


def confirm_request(session: Session, escalation_id: int, agent: Agent, tracker: TrackerStore,
                    now: dt.datetime) -> Erasure:
    """An agent confirms the customer's erasure request: its conversation is erased."""
    escalation = escalations.get(session, escalation_id)
    if escalation.reason != HandoffReason.ERASURE_REQUEST.value:
        raise ErasureError(409, f"escalation {escalation.reference} is not an erasure request "
                                f"(its reason is {escalation.reason})")
    if escalation.status != EscalationStatus.WITH_AGENT or escalation.agent_id != agent.id:
        raise ErasureError(409, f"claim escalation {escalation.reference} before confirming "
                                "its erasure")
    record = erase(session, escalation.conversation_id, tracker, Requester.AGENT, now, agent.id)
    if record is None:  # a second confirmation that waited for the first one's lock
        raise ErasureError(404, f"no escalation {escalation_id}")
    return record


def erasures_of(session: Session, conversation_id: str) -> list[Erasure]:
    """The records of the conversation's erasures, oldest first."""
    return list(session.scalars(select(Erasure)
                                .where(Erasure.conversation_hash == conversation_hash(conversation_id))
                                .order_by(Erasure.id)))


def conversation_of_reference(session: Session, reference: str) -> Optional[str]:
    """The conversation of an escalation's reference (NH-...), while it exists."""
    return session.scalar(select(Escalation.conversation_id)
                          .where(Escalation.reference == reference.strip().upper()))
