"""What the service stores: conversations, their messages, escalations, agents, the outbox,
and the record of each erasure."""

from __future__ import annotations

import datetime as dt
from enum import Enum as PyEnum
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from api.db import Base
from core.languages import LANGUAGES
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
    # a customer message sent again with the same client_message_id is stored once
    # (migration 0008; NULLs, from clients that send no id, never clash)
    __table_args__ = (Index("uq_messages_client_message_id", "conversation_id",
                            "client_message_id", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    sender: Mapped[str] = mapped_column(String(8))  # customer, bot, agent, system
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[Optional[list[dict[str, Any]]]] = mapped_column(JSON)
    agent_name: Mapped[Optional[str]] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # the customer's own id for the message (CustomerMessage.client_message_id), if any
    client_message_id: Mapped[Optional[str]] = mapped_column(String(64))
    # a customer message whose bot answer is being fetched: until when the request that
    # stored it may take; None once the answer is stored (or when none is awaited). A repeat
    # after this time finds the first attempt lost and answers it (api/services/conversations.py)
    answer_due_by: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime())
    # a bot or system reply: the id of the customer message it answers (not a foreign key:
    # the rows go together, see api/services/erasure.py)
    reply_to: Mapped[Optional[int]] = mapped_column(Integer)
    conversation: Mapped[Conversation] = relationship(back_populates="messages")


# the languages an agent may serve: the customers' (core/languages.py), and English
AGENT_LANGUAGES: tuple[str, ...] = (*LANGUAGES, "en")
# the languages the console is written in (content/console.yml): the same four; an agent
# who chose none reads it in the first customer language they serve, else in English
CONSOLE_LANGUAGES: tuple[str, ...] = AGENT_LANGUAGES
FALLBACK_CONSOLE_LANGUAGE = "en"
# the time zone the console shows times in, unless the agent chose another (IANA name)
DEFAULT_TIME_ZONE = "Europe/Oslo"
# how many conversations an agent may hold at once (migration 0005 checks the same bounds)
MIN_CONVERSATIONS, MAX_CONVERSATIONS, DEFAULT_CONVERSATIONS = 1, 20, 3


class Presence(str, PyEnum):
    """Whether an agent takes conversations now. Online: yes (counted for customers' waits,
    and auto-assigned to); away: at work but not taking new ones (may still claim one);
    offline: not at work. See api/services/agents.py for what sets it."""

    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # unique among active agents (checked by api/services/agents.py, see there why)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # the token works from here until `agent_token_days` later, unless revoked
    token_issued_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime())
    # the languages the agent serves (AGENT_LANGUAGES, in that order): the queues they see
    languages: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(LANGUAGES))
    max_conversations: Mapped[int] = mapped_column(Integer, default=DEFAULT_CONVERSATIONS)
    presence: Mapped[Presence] = mapped_column(status_type(Presence, "agent_presence", 8),
                                               default=Presence.OFFLINE)
    # may manage agents (GET/POST/PATCH /api/agents)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    # a deactivated agent cannot sign in; the row stays for the escalations they handled
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # the console's language (CONSOLE_LANGUAGES; None: not chosen, see api/services/agents.py
    # console_language) and the time zone it shows times in (migration 0007)
    console_language: Mapped[Optional[str]] = mapped_column(String(2))
    time_zone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIME_ZONE)


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
    # the topics the bot answered before the hand-off (the hook's `answered`; migration 0007)
    answered: Mapped[list[str]] = mapped_column(JSON, default=list)
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


class CsatSurvey(Base):
    """The customer's rating of one conversation (CSAT): asked once, when an agent resolved
    it or the bot ended it with a goodbye; answered with 1-5 and a comment, or skipped.

    Who handled it (`handled_by`: agent or bot), the hand-off's reason and the language are
    copied here when it is asked, so the figures by language, reason and handling need no
    join and survive an escalation's later changes.
    """

    __tablename__ = "csat_surveys"
    __table_args__ = (
        CheckConstraint("score IS NULL OR (score BETWEEN 1 AND 5)", name="ck_csat_score"),
        CheckConstraint("handled_by IN ('agent', 'bot')", name="ck_csat_handled_by"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), unique=True)
    escalation_id: Mapped[Optional[int]] = mapped_column(ForeignKey("escalations.id"))
    agent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("agents.id"))
    language: Mapped[str] = mapped_column(String(2))
    handled_by: Mapped[str] = mapped_column(String(8))  # agent | bot
    reason: Mapped[Optional[str]] = mapped_column(String(40))
    asked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    answered_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime())
    score: Mapped[Optional[int]] = mapped_column(Integer)  # 1-5; None while asked or skipped
    comment: Mapped[Optional[str]] = mapped_column(Text)  # masked like every customer text
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
