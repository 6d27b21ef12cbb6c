"""What the service stores: conversations, their messages, escalations, agents, the outbox,
and the record of each erasure."""

from __future__ import annotations

import datetime as dt
from enum import Enum as PyEnum
from typing import Any, Optional

from sqlalchemy import JSON, DateTime, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from api.db import Base
from core.vocabulary import ConversationStatus, EscalationStatus, OutboxStatus


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC on the way out, also from SQLite, which drops the zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Optional[dt.datetime], dialect: Any) -> Any:
        return value.astimezone(dt.timezone.utc) if value is not None else None

    def process_result_value(self, value: Optional[dt.datetime], dialect: Any) -> Any:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value


def status_type(enum: type[PyEnum], name: str, length: int) -> Enum:
    """A status column: the enum's values (e.g. "queued") stored as VARCHAR, checked by a
    CHECK constraint named `name` (migration 0002), read back as the enum."""
    return Enum(enum, name=name, native_enum=False, create_constraint=True, length=length,
                values_callable=lambda members: [member.value for member in members],
                validate_strings=True)


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_token_hash: Mapped[str] = mapped_column(String(64))
    language: Mapped[Optional[str]] = mapped_column(String(2))
    status: Mapped[ConversationStatus] = mapped_column(
        status_type(ConversationStatus, "conversation_status", 16), default=ConversationStatus.BOT)
    page: Mapped[Optional[str]] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    messages: Mapped[list["Message"]] = relationship(back_populates="conversation",
                                                     order_by="Message.id")


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    sender: Mapped[str] = mapped_column(String(8))  # customer, bot, agent, system
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[Optional[list[dict[str, Any]]]] = mapped_column(JSON)
    agent_name: Mapped[Optional[str]] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # the token works from here until `agent_token_days` later, unless revoked
    token_issued_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime())


class Escalation(Base):
    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    language: Mapped[str] = mapped_column(String(2))
    reason: Mapped[str] = mapped_column(String(40))
    priority: Mapped[str] = mapped_column(String(8), default="normal")
    summary: Mapped[str] = mapped_column(Text, default="")
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    scorecard: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[EscalationStatus] = mapped_column(
        status_type(EscalationStatus, "escalation_status", 16), default=EscalationStatus.QUEUED,
        index=True)
    agent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime())
    resolved_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime())
    agent: Mapped[Optional[Agent]] = relationship()


class HookReceipt(Base):
    """Event ids of accepted hooks, so a replayed hook is refused."""

    __tablename__ = "hook_receipts"
    __table_args__ = (UniqueConstraint("source", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OutboxEvent(Base):
    """An event for the helpdesk webhooks, kept until delivered."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(String(500))
    type: Mapped[str] = mapped_column(String(40))
    # whose data the payload holds, so that erasing a conversation erases its events too
    conversation_id: Mapped[Optional[str]] = mapped_column(String(40), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[OutboxStatus] = mapped_column(
        status_type(OutboxStatus, "outbox_status", 12), default=OutboxStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Erasure(Base):
    """That a conversation's data was erased, when and at whose request, for an auditor.

    Nothing personal is kept: the conversation's id only as its SHA-256 (an auditor given
    the id can check it), the references the customer was told (NH-...), and counts.
    """

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_hash: Mapped[str] = mapped_column(String(64), index=True)
    escalation_references: Mapped[list[str]] = mapped_column(JSON, default=list)
    # agent (a confirmed erasure request), operator (python -m api erase), retention
    requested_by: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("agents.id"))
    erased_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    outbox_events: Mapped[int] = mapped_column(Integer, default=0)
    tracker_events: Mapped[int] = mapped_column(Integer, default=0)
