"""Escalations: created by the bot's hook, queued, claimed by one agent, resolved."""

from __future__ import annotations

import contextlib
import secrets
import time
from typing import Optional

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api import metrics
from api.models import Agent, Conversation, Escalation, HookReceipt, Message, utcnow
from api.schemas import EscalationHook, EscalationReceipt
from api.services import estimates, outbox
from api.services.hub import Hub
from api.services.rasa_client import RasaUnavailable
from api.services.serialize import escalation_summary, message_out
from api.status import Status, transition
from core.content import notice
from core.scorecard import aggregate

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone


class EscalationError(Exception):
    """A request the escalation's state does not allow; `status_code` says which 4xx."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


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


def create_from_hook(hub: Hub, session: Session, hook: EscalationHook) -> EscalationReceipt:
    remember_hook(session, "bot", hook.event_id, hook.sent_at, hub.settings.hook_max_age_seconds)
    conversation = session.get(Conversation, hook.conversation_id)
    if conversation is None:  # the bot was reached directly, not through the widget
        conversation = Conversation(id=hook.conversation_id, customer_token_hash="",
                                    language=hook.language, status=Status.BOT.value)
        session.add(conversation)
    conversation.status = transition(conversation.status, Status.QUEUED) \
        if conversation.status != Status.QUEUED.value else conversation.status
    conversation.language = hook.language
    escalation = Escalation(
        reference=new_reference(), conversation_id=conversation.id, language=hook.language,
        reason=hook.reason, priority=hook.priority, summary=hook.summary, topics=hook.topics,
        details=hook.details, transcript=[line.model_dump() for line in hook.transcript],
        scorecard=hook.scorecard)
    session.add(escalation)
    try:
        session.flush()
    except IntegrityError as error:
        session.rollback()
        raise EscalationError(409, "hook was already received") from error
    metrics.HANDOFFS.labels(hook.reason).inc()
    summary = escalation_summary(escalation)
    outbox.enqueue(session, hub.settings.webhook_url_list, "escalation.created",
                   {**summary.model_dump(mode="json"), "details": escalation.details,
                    "transcript": escalation.transcript})
    session.commit()
    hub.bus.to_agents({"type": "escalation.created", "escalation": summary.model_dump(mode="json")})
    publish_queue_positions(hub, session)
    agents_online = hub.bus.agents_connected
    open_now, next_open = estimates.opening(escalation.language)
    place = estimates.position(session, escalation)
    handling = estimates.average_handling_minutes(session, hub.settings.average_handling_minutes)
    return EscalationReceipt(
        reference=escalation.reference, position=place,
        eta_minutes=estimates.eta_minutes(place, agents_online, handling) if open_now else None,
        agents_online=agents_online, open_now=open_now, next_open=next_open)


def publish_queue_positions(hub: Hub, session: Session) -> None:
    """Tell every waiting customer their current place and wait."""
    handling = estimates.average_handling_minutes(session, hub.settings.average_handling_minutes)
    for place, escalation in enumerate(estimates.queued(session), start=1):
        open_now, next_open = estimates.opening(escalation.language)
        hub.bus.to_conversation(escalation.conversation_id, {
            "type": "queue", "status": "queued", "escalation": {
                "reference": escalation.reference, "position": place, "open_now": open_now,
                "eta_minutes": estimates.eta_minutes(place, hub.bus.agents_connected, handling)
                if open_now else None, "next_open": next_open}})


def scorecard_summary(session: Session) -> dict:
    """Share of handed-off conversations meeting each principle, where it applied."""
    cards = session.scalars(select(Escalation.scorecard)
                            .where(Escalation.scorecard.is_not(None))).all()
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


def latest_for_conversation(session: Session, conversation_id: str) -> Optional[Escalation]:
    return session.scalar(select(Escalation).where(Escalation.conversation_id == conversation_id)
                          .order_by(Escalation.id.desc()).limit(1))


def listing(session: Session, status: str) -> list[Escalation]:
    statuses = {"open": ("queued", "with_agent")}.get(status, (status,))
    rows = session.scalars(select(Escalation).where(Escalation.status.in_(statuses))).all()
    if status == "closed":
        return sorted(rows, key=lambda e: e.resolved_at or e.created_at, reverse=True)[:200]
    return sorted(rows, key=estimates.queue_order)


def claim(hub: Hub, session: Session, escalation_id: int, agent: Agent) -> Escalation:
    """Take it: one agent only, decided by the database, not by a race."""
    escalation = get(session, escalation_id)
    taken = session.execute(
        update(Escalation).where(Escalation.id == escalation_id, Escalation.status == "queued")
        .values(status="with_agent", agent_id=agent.id, claimed_at=utcnow()))
    if taken.rowcount != 1:
        session.rollback()
        session.refresh(escalation)
        who = escalation.agent.name if escalation.agent else "nobody"
        raise EscalationError(409, f"escalation {escalation.reference} is {escalation.status}"
                                   + (f", claimed by {who}" if escalation.agent else ""))
    conversation = session.get(Conversation, escalation.conversation_id)
    conversation.status = transition(conversation.status, Status.WITH_AGENT)
    note = Message(conversation_id=conversation.id, sender="system",
                   text=notice("agent_joined", conversation.language, agent=agent.name),
                   agent_name=agent.name)
    session.add(note)
    session.flush()
    session.refresh(escalation)
    summary = escalation_summary(escalation)
    metrics.WAIT_SECONDS.observe(summary.wait_seconds)
    outbox.enqueue(session, hub.settings.webhook_url_list, "escalation.claimed",
                   summary.model_dump(mode="json"))
    session.commit()
    hub.bus.to_agents({"type": "escalation.claimed", "escalation": summary.model_dump(mode="json")})
    hub.bus.to_conversation(conversation.id, {"type": "status", "status": "with_agent",
                                              "agent_name": agent.name})
    hub.bus.to_conversation(conversation.id, {"type": "message",
                                              "message": message_out(note).model_dump(mode="json")})
    publish_queue_positions(hub, session)
    return escalation


def agent_message(hub: Hub, session: Session, escalation_id: int, agent: Agent,
                  text: str) -> Message:
    escalation = get(session, escalation_id)
    if escalation.status != "with_agent" or escalation.agent_id != agent.id:
        raise EscalationError(409, "claim the escalation before writing to the customer")
    return post_agent_message(hub, session, escalation, agent.name, text)


def post_agent_message(hub: Hub, session: Session, escalation: Escalation, agent_name: str,
                       text: str) -> Message:
    message = Message(conversation_id=escalation.conversation_id, sender="agent", text=text,
                      agent_name=agent_name)
    session.add(message)
    session.flush()
    metrics.MESSAGES.labels("agent").inc()
    out = message_out(message).model_dump(mode="json")
    outbox.enqueue(session, hub.settings.webhook_url_list, "message.created",
                   {"reference": escalation.reference, "message": out})
    session.commit()
    hub.bus.to_conversation(escalation.conversation_id, {"type": "message", "message": out})
    hub.bus.to_agents({"type": "message.created", "escalation_id": escalation.id, "message": out})
    return message


async def resolve(hub: Hub, session: Session, escalation_id: int, agent: Agent,
                  return_to_bot: bool) -> Escalation:
    escalation = get(session, escalation_id)
    if escalation.status == "closed":
        raise EscalationError(409, f"escalation {escalation.reference} is already resolved")
    if escalation.status == "with_agent" and escalation.agent_id != agent.id:
        raise EscalationError(409, "only the agent who claimed it can resolve it")
    conversation = session.get(Conversation, escalation.conversation_id)
    escalation.status = "closed"
    escalation.resolved_at = utcnow()
    escalation.agent_id = escalation.agent_id or agent.id
    escalation.claimed_at = escalation.claimed_at or escalation.resolved_at
    target = Status.BOT if return_to_bot else Status.CLOSED
    conversation.status = transition(conversation.status, target)
    text = notice("back_to_bot" if return_to_bot else "closed", conversation.language)
    note = Message(conversation_id=conversation.id, sender="system", text=text)
    session.add(note)
    session.flush()
    summary = escalation_summary(escalation)
    outbox.enqueue(session, hub.settings.webhook_url_list, "escalation.resolved",
                   {**summary.model_dump(mode="json"), "return_to_bot": return_to_bot})
    session.commit()
    if return_to_bot:
        # the bot resumes knowing a person handled it; if Rasa is down, the bot still answers
        with contextlib.suppress(RasaUnavailable):
            await hub.rasa.set_slots(conversation.id, {"handed_off": False,
                                                       "returned_from_agent": True})
    hub.bus.to_agents({"type": "escalation.resolved", "escalation": summary.model_dump(mode="json")})
    hub.bus.to_conversation(conversation.id, {"type": "status", "status": conversation.status})
    hub.bus.to_conversation(conversation.id, {"type": "message",
                                              "message": message_out(note).model_dump(mode="json")})
    publish_queue_positions(hub, session)
    return escalation
