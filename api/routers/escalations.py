"""The agents' side of the contract."""

from __future__ import annotations

from typing import Any, Optional

from fastapi import APIRouter, HTTPException, Query, Response

from api.deps import CurrentAgent, EscalationId, HubDep, SessionDep
from api.events import Typing
from api.schemas import (
    AgentText,
    ConsoleLabels,
    ConsoleLanguage,
    ErasureOut,
    EscalationDetail,
    EscalationSummary,
    LoginLabels,
    MessageOut,
    Resolve,
)
from api.services import agents, csat, erasure, escalations
from api.services.serialize import escalation_detail, escalation_summary, message_out
from api.texts import console_labels, login_labels
from core.vocabulary import EscalationStatus

router = APIRouter(tags=["agents"])
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "the escalation's state does not allow it (detail says why)"}}


@router.get("/api/labels", response_model=ConsoleLabels)
def labels(agent: CurrentAgent, language: Optional[ConsoleLanguage] = None) -> ConsoleLabels:
    """Every text of the console, and what it calls reasons, priorities, statuses, languages,
    principles and topics: in the agent's console language, or in `language`."""
    return ConsoleLabels.model_validate(console_labels(language or agents.console_language(agent)))


@router.get("/api/labels/login", response_model=LoginLabels)
def labels_before_login(language: ConsoleLanguage = "en") -> LoginLabels:
    """The console's own texts for its login page, before there is an agent to ask (the
    page picks the language from the browser's)."""
    return LoginLabels.model_validate(login_labels(language))


@router.get("/api/escalations", response_model=list[EscalationSummary])
def queue(agent: CurrentAgent, session: SessionDep, hub: HubDep,
          status: escalations.Listing = "open",
          limit: int = Query(200, ge=1, le=500)) -> list[EscalationSummary]:
    """The queue: highest priority, then oldest, first; closed: latest resolved first.
    Only escalations in the languages the agent takes (and those they hold); no queued
    ones while they hold as many conversations as they may."""
    reader = agents.console_language(agent)
    return [escalation_summary(e, reader) for e in escalations.listing(
        session, status, limit, agent, hub.settings.language_fallbacks)]


@router.get("/api/scorecard")
def scorecard(agent: CurrentAgent, session: SessionDep) -> dict[str, Any]:
    """The principles scorecard in aggregate over the latest handed-off conversations
    (the bot's own conversations: `python -m bot.scorecard`), and beside it the customers'
    own ratings (CSAT) by language, hand-off reason, and bot-only versus agent-handled."""
    return {**escalations.scorecard_summary(session),
            "csat": csat.report(session).model_dump(mode="json")}


@router.get("/api/escalations/{escalation_id}", response_model=EscalationDetail)
def detail(escalation_id: EscalationId, agent: CurrentAgent, session: SessionDep) -> EscalationDetail:
    """Everything the bot gathered, the summary in the agent's console language, and the
    chat since the hand-off."""
    return escalation_detail(session, escalations.get(session, escalation_id),
                             agents.console_language(agent))


@router.post("/api/escalations/{escalation_id}/claim", response_model=EscalationSummary,
             responses={**CONFLICT, 403: {"description": "the escalation is in a language "
                                                         "the agent does not take"}})
def claim(escalation_id: EscalationId, agent: CurrentAgent, session: SessionDep,
          hub: HubDep) -> EscalationSummary:
    """Take a queued escalation in a language the agent takes, while they hold fewer
    conversations than they may (else 409)."""
    return escalation_summary(escalations.claim(session, escalation_id, agent,
                                                hub.settings.language_fallbacks),
                              agents.console_language(agent))


@router.post("/api/escalations/{escalation_id}/messages", response_model=MessageOut,
             status_code=201, responses=CONFLICT)
def write(escalation_id: EscalationId, body: AgentText, agent: CurrentAgent, session: SessionDep,
          hub: HubDep) -> MessageOut:
    text = body.text.strip()
    if not text or len(text) > hub.settings.max_message_length:
        raise HTTPException(422, f"text must be 1-{hub.settings.max_message_length} characters")
    return message_out(escalations.agent_message(session, escalation_id, agent, text))


@router.post("/api/escalations/{escalation_id}/typing", status_code=204, responses=CONFLICT)
def typing(escalation_id: EscalationId, agent: CurrentAgent, session: SessionDep, hub: HubDep) -> Response:
    """Show the customer that the agent is typing. Relayed at most once per
    NORDHEM_TYPING_INTERVAL_SECONDS (2) per escalation and agent: a call within the interval
    is dropped unread and still answered 204, since the customer already sees the signal."""
    key = ("agent", escalation_id, agent.id)
    if not hub.typing.allow(key, hub.clock()):
        return Response(status_code=204)
    try:
        escalation = escalations.get(session, escalation_id)
        if escalation.status != EscalationStatus.WITH_AGENT or escalation.agent_id != agent.id:
            raise HTTPException(409, "only the agent who claimed the escalation types in it")
    except Exception:
        hub.typing.release(key)  # refused, not relayed: the next call is checked again
        raise
    hub.events.emit(Typing(escalation.conversation_id, escalation.id, "agent", agent.name))
    return Response(status_code=204)


@router.post("/api/escalations/{escalation_id}/resolve", response_model=EscalationSummary,
             responses=CONFLICT)
async def resolve(escalation_id: EscalationId, body: Resolve, agent: CurrentAgent, session: SessionDep,
                  hub: HubDep) -> EscalationSummary:
    escalation = await escalations.resolve(hub, session, escalation_id, agent, body.return_to_bot)
    return escalation_summary(escalation, agents.console_language(agent))


@router.post("/api/escalations/{escalation_id}/erase", response_model=ErasureOut,
             responses={404: {"description": "no such escalation (or erased already)"},
                        **CONFLICT})
def erase(escalation_id: EscalationId, agent: CurrentAgent, session: SessionDep,
          hub: HubDep) -> ErasureOut:
    """Confirm an erasure request (reason `erasure_request`) the agent has claimed: the
    conversation is erased everywhere (service, Rasa's tracker store, helpdesk outbox),
    the customer's chat is told so, and a record without personal data is kept."""
    tracker = erasure.TrackerStore(hub.settings.tracker_store_url)
    try:
        record = erasure.confirm_request(session, escalation_id, agent, tracker, hub.clock())
    finally:
        tracker.close()
    return ErasureOut(references=record.escalation_references, requested_by=record.requested_by,
                      erased_at=record.erased_at, messages=record.messages,
                      escalations=record.escalations, outbox_events=record.outbox_events,
                      tracker_events=record.tracker_events)
