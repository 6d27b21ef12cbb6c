"""Escalations: created by the bot's hook, queued, claimed by one agent, resolved.

What each change means for others (webhooks, live pushes, metrics, queue places) is not
done here: it is published as an event (api/events.py) and the listeners react.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
import time
from typing import Any, Literal, Optional, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from api import state
from api.errors import ServiceError
from api.events import EscalationClaimed, EscalationCreated, EscalationResolved, MessageCreated, publish
from api.models import Agent, Conversation, Erasure, Escalation, HookReceipt, Message, utcnow
from api.schemas import EscalationHook, EscalationReceipt, HelpdeskReply
from api.services import estimates
from api.services.hub import Hub
from api.services.rasa_client import RasaUnavailable
from api.services.serialize import escalation_info, escalation_summary, message_out
from core.content import notice
from core.personal_data import mask
from core.scorecard import aggregate
from core.vocabulary import SLOT_HANDED_OFF, SLOT_RETURNED_FROM_AGENT, ConversationStatus, EscalationStatus

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone
# the aggregate scorecard is over the latest hand-offs, so it stays one bounded query
SCORECARD_SAMPLE = 1000
Listing = Literal["open", "queued", "with_agent", "closed"]


class EscalationError(ServiceError):
    """A request the escalation's state does not allow (404, 409, 422)."""


def new_reference() -> str:
    return "NH-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


def remember_hook(session: Session, source: str, event_id: str, sent_at: Optional[float],
                  max_age: int) -> None:
    """Refuse a stale or replayed hook (EscalationError 409/422)."""
    if sent_at is not None and abs(time.time() - sent_at) > max_age:
        raise EscalationError(422, "hook is too old or from the future (sent_at)")
    if session.scalar(select(HookReceipt).where(HookReceipt.source == source,
                                                 HookReceipt.event_id == event_id)):
        raise EscalationError(409, f"hook {event_id} was already received")
    session.add(HookReceipt(source=source, event_id=event_id))


def erased_conversation_hash(conversation_id: str) -> str:
    """What the record of an erasure keeps of the conversation's id: its SHA-256."""
    return hashlib.sha256(conversation_id.encode()).hexdigest()


def was_erased(session: Session, conversation_id: str) -> bool:
    return session.scalar(select(Erasure.id).where(
        Erasure.conversation_hash == erased_conversation_hash(conversation_id)).limit(1)) is not None


def create_from_hook(hub: Hub, session: Session, hook: EscalationHook,
                     source: str = "bot") -> tuple[EscalationReceipt, bool]:
    """The receipt of a new escalation, and True; or, when the conversation already has an
    open one (a second hand-off while waiting or with an agent), that one's receipt and False.
    `source` is who handed over: the bot's hook, or the service itself while the bot is down."""
    remember_hook(session, source, hook.event_id, hook.sent_at, hub.settings.hook_max_age_seconds)
    # locked (on PostgreSQL) so that two hooks of one conversation cannot both create one
    conversation = session.get(Conversation, hook.conversation_id, with_for_update=True)
    if conversation is None and was_erased(session, hook.conversation_id):
        # a hand-off from a bot turn that was under way while the conversation was erased
        session.rollback()
        raise EscalationError(409, "this conversation was erased")
    if conversation is None:  # the bot was reached directly, not through the widget
        conversation = Conversation(id=hook.conversation_id, customer_token_hash="",
                                    language=hook.language, status=ConversationStatus.BOT)
        session.add(conversation)
    existing = open_for_conversation(session, conversation.id)
    if existing is not None:
        session.commit()  # keeps the hook's receipt: a replay of its event id is refused
        return receipt(hub, session, existing), False
    state.move_conversation(conversation, ConversationStatus.QUEUED)
    conversation.language = hook.language
    escalation = Escalation(
        reference=new_reference(), conversation_id=conversation.id, language=hook.language,
        reason=hook.reason, priority=hook.priority.value, summary=mask(hook.summary),
        topics=hook.topics,
        details={key: mask(value) if isinstance(value, str) else value
                 for key, value in hook.details.items()},
        transcript=[{**line.model_dump(), "text": mask(line.text)} for line in hook.transcript],
        scorecard=hook.scorecard)
    session.add(escalation)
    try:
        session.flush()
    except IntegrityError as error:
        session.rollback()
        raise EscalationError(409, "hook was already received") from error
    publish(session, EscalationCreated(escalation_summary(escalation), escalation.details,
                                       escalation.transcript))
    session.commit()
    return receipt(hub, session, escalation), True


def receipt(hub: Hub, session: Session, escalation: Escalation) -> EscalationReceipt:
    """What the bot tells the customer: reference, place and wait, or the next opening."""
    info = escalation_info(hub, session, escalation)
    return EscalationReceipt(**info.model_dump(), agents_online=hub.bus.agents_connected)


def scorecard_summary(session: Session) -> dict[str, Any]:
    """Share of the latest handed-off conversations meeting each principle, where it applied."""
    cards = session.scalars(select(Escalation.scorecard)
                            .where(Escalation.scorecard.is_not(None))
                            .order_by(Escalation.id.desc()).limit(SCORECARD_SAMPLE)).all()
    return aggregate(card for card in cards if card)


def get(session: Session, escalation_id: int) -> Escalation:
    escalation = session.get(Escalation, escalation_id)
    if escalation is None:
        raise EscalationError(404, f"no escalation {escalation_id}")
    return escalation


def by_reference(session: Session, reference: str) -> Escalation:
    escalation = session.scalar(select(Escalation).where(Escalation.reference == reference))
    if escalation is None:
        raise EscalationError(404, f"no escalation {reference}")
    return escalation


def open_for_conversation(session: Session, conversation_id: str) -> Optional[Escalation]:
    """The conversation's open (queued or with an agent) escalation, the newest if several."""
    return session.scalar(select(Escalation)
                          .where(Escalation.conversation_id == conversation_id,
                                 Escalation.status.in_(state.OPEN_ESCALATION))
                          .order_by(Escalation.id.desc()).limit(1))


def listing(session: Session, status: Listing, limit: int) -> list[Escalation]:
    """Open, queued or with an agent: in queue order; closed: the latest resolved first."""
    query = select(Escalation).options(selectinload(Escalation.agent)).limit(limit)
    if status == EscalationStatus.CLOSED:
        query = query.where(Escalation.status == EscalationStatus.CLOSED).order_by(
            func.coalesce(Escalation.resolved_at, Escalation.created_at).desc(),
            Escalation.id.desc())
    else:
        statuses = state.OPEN_ESCALATION if status == "open" else {EscalationStatus(status)}
        query = query.where(Escalation.status.in_(statuses)).order_by(*estimates.queue_order())
    return list(session.scalars(query))


def claim(session: Session, escalation_id: int, agent: Agent) -> Escalation:
    """Take it: one agent only, decided by the database, not by a race."""
    escalation = get(session, escalation_id)
    claimable = state.sources(state.ESCALATION_TRANSITIONS, EscalationStatus.WITH_AGENT)
    taken = cast(CursorResult[Any], session.execute(
        update(Escalation).where(Escalation.id == escalation_id, Escalation.status.in_(claimable))
        .values(status=EscalationStatus.WITH_AGENT, agent_id=agent.id, claimed_at=utcnow())))
    if taken.rowcount != 1:
        session.rollback()
        session.refresh(escalation)
        who = escalation.agent.name if escalation.agent else "nobody"
        raise EscalationError(409, f"escalation {escalation.reference} is "
                                   f"{escalation.status.value}"
                                   + (f", claimed by {who}" if escalation.agent else ""))
    session.refresh(escalation)
    conversation = session.get_one(Conversation, escalation.conversation_id)
    state.move_conversation(conversation, ConversationStatus.WITH_AGENT)
    note = Message(conversation_id=conversation.id, sender="system",
                   text=notice("agent_joined", conversation.language, agent=agent.name),
                   agent_name=agent.name)
    session.add(note)
    session.flush()
    publish(session, EscalationClaimed(escalation_summary(escalation)))
    publish(session, MessageCreated(conversation.id, message_out(note), escalation.id,
                                    escalation.reference))
    session.commit()
    return escalation


def agent_message(session: Session, escalation_id: int, agent: Agent, text: str) -> Message:
    escalation = get(session, escalation_id)
    if escalation.status != EscalationStatus.WITH_AGENT or escalation.agent_id != agent.id:
        raise EscalationError(409, "claim the escalation before writing to the customer")
    return post_agent_message(session, escalation, agent.name, text)


def helpdesk_reply(session: Session, reply: HelpdeskReply, max_age: int,
                   max_length: int) -> Message:
    """A reply an agent wrote in the company's helpdesk, to the customer's chat."""
    remember_hook(session, "helpdesk", reply.event_id, None, max_age)
    escalation = by_reference(session, reply.reference)
    if escalation.status not in state.OPEN_ESCALATION:
        raise EscalationError(409, f"escalation {reply.reference} is resolved")
    text = reply.text.strip()
    if len(text) > max_length:
        raise EscalationError(422, "text is too long")
    return post_agent_message(session, escalation, reply.agent_name, text)


def post_agent_message(session: Session, escalation: Escalation, agent_name: str,
                       text: str) -> Message:
    message = Message(conversation_id=escalation.conversation_id, sender="agent",
                      text=mask(text), agent_name=agent_name)
    session.add(message)
    session.flush()
    publish(session, MessageCreated(escalation.conversation_id, message_out(message),
                                    escalation.id, escalation.reference))
    session.commit()
    return message


async def resolve(hub: Hub, session: Session, escalation_id: int, agent: Agent,
                  return_to_bot: bool) -> Escalation:
    escalation = await asyncio.to_thread(close, session, escalation_id, agent, return_to_bot)
    if return_to_bot:
        # the bot resumes knowing a person handled it; if Rasa is down, the bot still answers
        with contextlib.suppress(RasaUnavailable):
            await hub.rasa.set_slots(escalation.conversation_id, {
                SLOT_HANDED_OFF: False, SLOT_RETURNED_FROM_AGENT: True})
    return escalation


def close(session: Session, escalation_id: int, agent: Agent, return_to_bot: bool) -> Escalation:
    """Resolve the escalation and hand the conversation back to the bot or close it."""
    escalation = get(session, escalation_id)
    if escalation.status == EscalationStatus.WITH_AGENT and escalation.agent_id != agent.id:
        raise EscalationError(409, "only the agent who claimed it can resolve it")
    # checked against the table first (409), then moved by the database only if nobody
    # changed it since it was read: a claim racing this resolve makes one of them lose
    state.move(state.ESCALATION_TRANSITIONS, escalation.status, EscalationStatus.CLOSED,
               f"escalation {escalation.reference}")
    now = utcnow()
    same_agent = Escalation.agent_id.is_(None) if escalation.agent_id is None \
        else Escalation.agent_id == escalation.agent_id
    moved = cast(CursorResult[Any], session.execute(
        update(Escalation).where(Escalation.id == escalation_id,
                                 Escalation.status == escalation.status, same_agent)
        .values(status=EscalationStatus.CLOSED, resolved_at=now,
                agent_id=escalation.agent_id or agent.id,
                claimed_at=escalation.claimed_at or now)))
    if moved.rowcount != 1:
        session.rollback()
        raise EscalationError(409, f"escalation {escalation.reference} changed meanwhile; "
                                   "reload it")
    session.refresh(escalation)
    conversation = session.get_one(Conversation, escalation.conversation_id)
    end_handoff(session, conversation,
                ConversationStatus.BOT if return_to_bot else ConversationStatus.CLOSED,
                first=escalation)
    note = Message(conversation_id=conversation.id, sender="system",
                   text=notice("back_to_bot" if return_to_bot else "closed", conversation.language))
    session.add(note)
    session.flush()
    publish(session, MessageCreated(conversation.id, message_out(note), escalation.id,
                                    escalation.reference))
    session.commit()
    return escalation


def end_handoff(session: Session, conversation: Conversation, target: ConversationStatus,
                first: Optional[Escalation] = None) -> None:
    """The conversation goes back to the bot or closes; then no escalation of it is open any
    more: each is resolved (`first`, already closed by the caller, is published first)."""
    state.move_conversation(conversation, target)
    return_to_bot = target == ConversationStatus.BOT
    session.flush()
    others = session.scalars(select(Escalation)
                             .where(Escalation.conversation_id == conversation.id,
                                    Escalation.status.in_(state.OPEN_ESCALATION))
                             .order_by(Escalation.id)).all()
    for escalation in others:
        state.move_escalation(escalation, EscalationStatus.CLOSED)
        escalation.resolved_at = utcnow()
    session.flush()
    for escalation in [first, *others] if first is not None else others:
        publish(session, EscalationResolved(escalation_summary(escalation), conversation.status,
                                            return_to_bot))
