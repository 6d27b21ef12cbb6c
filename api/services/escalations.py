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

from sqlalchemy import CursorResult, and_, false, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, selectinload

from api import state
from api.errors import ServiceError
from api.events import EscalationClaimed, EscalationCreated, EscalationResolved, MessageCreated, publish
from api.models import (
    Agent,
    Conversation,
    Erasure,
    Escalation,
    HookReceipt,
    Message,
    Presence,
    utcnow,
)
from api.schemas import EscalationHook, EscalationReceipt, HelpdeskReply
from api.services import agents, csat, estimates
from api.services.agents import Fallbacks
from api.services.hub import Hub
from api.services.rasa_client import RasaUnavailable
from api.services.serialize import escalation_info, escalation_summary, message_out, queue_moment
from core.content import notice
from core.personal_data import mask
from core.scorecard import aggregate
from core.vocabulary import SLOT_HANDED_OFF, SLOT_RETURNED_FROM_AGENT, ConversationStatus, EscalationStatus

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone
# the aggregate scorecard is over the latest hand-offs, so it stays one bounded query
SCORECARD_SAMPLE = 1000
Listing = Literal["open", "queued", "with_agent", "closed"]
# where a claim (or an auto-assignment) may take an escalation from
CLAIMABLE = state.sources(state.ESCALATION_TRANSITIONS, EscalationStatus.WITH_AGENT)


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
        answered=hook.answered, scorecard=hook.scorecard)
    session.add(escalation)
    try:
        session.flush()
    except IntegrityError as error:
        session.rollback()
        raise EscalationError(409, "hook was already received") from error
    publish(session, EscalationCreated(escalation_summary(escalation), escalation.details,
                                       escalation.transcript))
    session.commit()
    session.refresh(escalation)  # auto-assignment (a listener) may have given it to someone
    return receipt(hub, session, escalation), True


def receipt(hub: Hub, session: Session, escalation: Escalation) -> EscalationReceipt:
    """What the bot tells the customer: reference, place in the language's queue and wait,
    or the next opening; and how many agents who take its language are online (0: the bot
    says nobody is there now, and no wait is given)."""
    moment = queue_moment(hub, session)
    info = escalation_info(hub, session, escalation, moment=moment)
    staffed = moment.staffing.get(escalation.language, agents.NOBODY)
    return EscalationReceipt(**info.model_dump(), agents_online=staffed.online)


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


def listing(session: Session, status: Listing, limit: int, agent: Agent,
            fallbacks: Fallbacks) -> list[Escalation]:
    """What `agent` sees, in queue order (closed: the latest resolved first). Queued: the
    escalations in the languages they take (api/services/agents.py), and none while they
    hold as many conversations as they may; with an agent: those in their languages and
    those they hold; closed: likewise."""
    reach = Escalation.language.in_(sorted(agents.languages_taken(agent.languages, fallbacks)))
    seen = or_(reach, Escalation.agent_id == agent.id)
    query = select(Escalation).options(selectinload(Escalation.agent)).limit(limit)
    if status == EscalationStatus.CLOSED:
        return list(session.scalars(query.where(Escalation.status == EscalationStatus.CLOSED, seen)
                                    .order_by(func.coalesce(Escalation.resolved_at,
                                                            Escalation.created_at).desc(),
                                              Escalation.id.desc())))
    offered = and_(Escalation.status == EscalationStatus.QUEUED, reach) \
        if agents.has_room(session, agent) else false()
    handled = and_(Escalation.status == EscalationStatus.WITH_AGENT, seen)
    shown = {"queued": offered, "with_agent": handled, "open": or_(offered, handled)}[status]
    return list(session.scalars(query.where(shown).order_by(*estimates.queue_order())))


def _take(session: Session, escalation_id: int, agent_id: int, online_only: bool = False) -> bool:
    """Give the escalation to the agent if it is still claimable and the agent holds fewer
    conversations than they may (and, `online_only`, is online): one conditional UPDATE,
    after locking the agent's row on PostgreSQL, so that two takes by one agent are counted
    one after the other (SQLite runs writes one at a time anyway). The caller commits, or
    rolls back when this is False."""
    agent = session.execute(select(Agent.max_conversations, Agent.presence, Agent.active)
                            .where(Agent.id == agent_id).with_for_update()).one_or_none()
    if agent is None or not agent.active or \
            (online_only and agent.presence != Presence.ONLINE):
        return False
    other = aliased(Escalation)
    held = (select(func.count()).select_from(other)
            .where(other.agent_id == agent_id, other.status == EscalationStatus.WITH_AGENT)
            .scalar_subquery())
    taken = cast(CursorResult[Any], session.execute(
        update(Escalation).where(Escalation.id == escalation_id, Escalation.status.in_(CLAIMABLE),
                                 held < agent.max_conversations)
        .values(status=EscalationStatus.WITH_AGENT, agent_id=agent_id, claimed_at=utcnow())
        .execution_options(synchronize_session=False)))
    return taken.rowcount == 1


def _joined(session: Session, escalation: Escalation, agent: Agent) -> None:
    """What follows a take (a claim or an auto-assignment): the conversation is with the
    agent, the customer is told who joined, and everyone hears of it; committed."""
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
                                    escalation.reference, escalation.language))
    session.commit()


def claim(session: Session, escalation_id: int, agent: Agent,
          fallbacks: Fallbacks | None = None) -> Escalation:
    """Take it: one agent only, decided by the database, not by a race. Only an escalation
    in a language the agent takes (403), and only while they hold fewer conversations than
    they may (409). Presence does not matter: claiming is the agent's own act."""
    escalation = get(session, escalation_id)
    if escalation.status in CLAIMABLE and not agents.takes(agent, escalation.language,
                                                           fallbacks or {}):
        taken = ", ".join(sorted(agents.languages_taken(agent.languages, fallbacks or {})))
        raise EscalationError(403, f"escalation {escalation.reference} is in "
                                   f"{escalation.language}, and you take escalations in "
                                   f"{taken or 'no language'} only; an admin can change "
                                   "your languages")
    if not _take(session, escalation_id, agent.id):
        session.rollback()
        session.refresh(escalation)
        if escalation.status in CLAIMABLE:
            held = agents.open_conversations(session, agent.id)
            raise EscalationError(409, f"you hold {held} open conversations, as many as you "
                                       f"may ({agent.max_conversations}); resolve one before "
                                       "taking another")
        who = escalation.agent.name if escalation.agent else "nobody"
        raise EscalationError(409, f"escalation {escalation.reference} is "
                                   f"{escalation.status.value}"
                                   + (f", claimed by {who}" if escalation.agent else ""))
    _joined(session, escalation, agent)
    return escalation


def auto_assign(hub: Hub) -> int:
    """NORDHEM_AUTO_ASSIGN: give the queued escalations, in queue order, to online agents
    with room who take their language, fewest open conversations first (then the one whose
    last conversation is oldest). Each is taken as a claim is (`_take`), so a claim or
    another instance assigning at the same moment never gives one escalation to two agents
    or an agent more than their maximum. Returns how many were given."""
    fallbacks = hub.settings.language_fallbacks
    given = 0
    with hub.database.sessions() as session:
        ready = agents.candidates(session, fallbacks)
        languages = set().union(*(candidate.languages for candidate in ready))
        waiting = [(e.id, e.language) for e in estimates.queued(session, languages)] \
            if languages else []
        for escalation_id, language in waiting:
            if not any(candidate.room for candidate in ready):
                break
            for candidate in sorted((c for c in ready if c.room and language in c.languages),
                                    key=agents.Candidate.order):
                if _take(session, escalation_id, candidate.id, online_only=True):
                    _joined(session, session.get_one(Escalation, escalation_id),
                            session.get_one(Agent, candidate.id))
                    candidate.room, candidate.load = candidate.room - 1, candidate.load + 1
                    candidate.last_assigned = utcnow()
                    given += 1
                    break
                session.rollback()
                if session.scalar(select(Escalation.status).where(
                        Escalation.id == escalation_id)) != EscalationStatus.QUEUED:
                    break  # claimed, resolved or erased meanwhile
                candidate.room = 0  # full, away or deactivated meanwhile
    return given


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
                                    escalation.id, escalation.reference, escalation.language))
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
                                    escalation.reference, escalation.language))
    csat.ask(session, conversation, escalation)  # once per conversation
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
