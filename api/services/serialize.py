"""Database rows to the public contract's shapes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import FALLBACK_CONSOLE_LANGUAGE, CsatSurvey, Escalation, Message, utcnow
from api.schemas import EscalationDetail, EscalationInfo, EscalationSummary, MessageOut
from api.services import agents, estimates, summaries
from api.services.agents import Staffing
from api.services.hub import Hub
from core.languages import LANGUAGES
from core.vocabulary import EscalationStatus


def message_out(message: Message) -> MessageOut:
    return MessageOut(id=message.id, sender=message.sender, text=message.text,
                      buttons=message.buttons or None, agent_name=message.agent_name,
                      created_at=message.created_at)


def escalation_summary(escalation: Escalation,
                       reader: str = FALLBACK_CONSOLE_LANGUAGE) -> EscalationSummary:
    """The escalation, its summary written in the `reader`'s console language: the agent's
    in the console; English for the helpdesks' webhooks and the consoles' live events (a
    console keeps the summary it fetched in its own language)."""
    created = escalation.created_at
    end = escalation.claimed_at or utcnow()
    return EscalationSummary(
        id=escalation.id, reference=escalation.reference,
        conversation_id=escalation.conversation_id, language=escalation.language,
        reason=escalation.reason, priority=escalation.priority,
        summary=summaries.for_agent(escalation, reader), bot_summary=escalation.summary,
        status=escalation.status, created_at=created,
        wait_seconds=max(0, int((end - created).total_seconds())),
        agent_name=escalation.agent.name if escalation.agent else None)


def escalation_detail(session: Session, escalation: Escalation,
                      reader: str = FALLBACK_CONSOLE_LANGUAGE) -> EscalationDetail:
    return EscalationDetail(
        **escalation_summary(escalation, reader).model_dump(), topics=escalation.topics or [],
        answered=escalation.answered or [],
        details=escalation.details or {}, transcript=escalation.transcript or [],
        messages=[message_out(m) for m in escalation_messages(session, escalation)],
        scorecard=escalation.scorecard,
        csat_score=session.scalar(select(CsatSurvey.score)
                                  .where(CsatSurvey.escalation_id == escalation.id)))


def escalation_messages(session: Session, escalation: Escalation) -> list[Message]:
    """The conversation's messages since the escalation was created."""
    return conversation_messages(session, escalation.conversation_id,
                                 since=escalation.created_at)


def conversation_messages(session: Session, conversation_id: str, after: int = 0,
                          since: Optional[dt.datetime] = None) -> list[Message]:
    """A conversation's messages in order: after message id `after`, from time `since`."""
    query = (select(Message).where(Message.conversation_id == conversation_id,
                                   Message.id > after)
             .order_by(Message.id))
    if since is not None:
        query = query.where(Message.created_at >= since)
    return list(session.scalars(query))


@dataclass(frozen=True)
class QueueMoment:
    """The moment the queues are read: each language's observed service rate then (absent:
    no basis), its capacity online then, and its agents online then."""

    now: dt.datetime
    rates: Mapping[str, estimates.ServiceRate] = field(default_factory=dict)
    capacity: Mapping[str, estimates.Capacity] = field(default_factory=dict)
    staffing: Mapping[str, Staffing] = field(default_factory=dict)


def queue_moment(hub: Hub, session: Session) -> QueueMoment:
    now = hub.clock()
    settings = hub.settings
    capacity = estimates.capacity_online(session, settings.language_fallbacks)
    served = estimates.served_lately(session, now, settings.wait_window_minutes)
    rates = {}
    for language in LANGUAGES:
        slots = capacity.get(language, estimates.NO_CAPACITY).slots
        rate = estimates.service_rate(served.get(language), now, slots, settings.wait_min_served)
        if rate is not None:
            rates[language] = rate
    return QueueMoment(now, rates, capacity,
                       agents.staffing(session, settings.language_fallbacks))


def escalation_info(hub: Hub, session: Session, escalation: Escalation,
                    place: Optional[int] = None,
                    moment: Optional[QueueMoment] = None) -> EscalationInfo:
    """Where the escalation's customer stands now, told the same way everywhere: the receipt,
    the conversation's status and the live queue updates. A caller telling every waiting
    customer passes each place and one moment, so the queue is read once, not per customer."""
    moment = moment or queue_moment(hub, session)
    open_now, next_open = estimates.opening(escalation.language, moment.now)
    if place is None:
        place = estimates.position(session, escalation)  # None unless queued
    staffed = moment.staffing.get(escalation.language, agents.NOBODY)
    available = agents_available(hub, staffed)
    free = moment.capacity.get(escalation.language, estimates.NO_CAPACITY).free
    # nobody who takes its language is online: no wait is promised, the escalation waits
    wait = estimates.wait_for(place, moment.rates.get(escalation.language),
                              hub.settings.wait_floor_minutes, free) \
        if open_now and (staffed.online or available is None) else None
    return EscalationInfo(reference=escalation.reference, position=place,
                          eta_minutes=wait.low if wait else None,
                          eta_max_minutes=wait.high if wait else None,
                          next_open=next_open, open_now=open_now,
                          agents_available=available,
                          agent_name=escalation.agent.name
                          if escalation.status == EscalationStatus.WITH_AGENT and escalation.agent
                          else None)


def agents_available(hub: Hub, staffed: Staffing) -> Optional[int]:
    """Agents free now for the escalation's language as far as the service can tell: online,
    active, taking the language and with room for another conversation. Unknown when a
    helpdesk receives the escalations and nobody is online here: its agents need not tell
    the service their presence."""
    if hub.settings.webhook_url_list and not staffed.online:
        return None
    return staffed.free
