"""The agents' side of the contract."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Response

from api.deps import CurrentAgent, HubDep, SessionDep
from api.schemas import (
    AgentOut,
    AgentText,
    EscalationDetail,
    EscalationSummary,
    MessageOut,
    Resolve,
)
from api.services import escalations
from api.services.escalations import EscalationError
from api.services.serialize import escalation_detail, escalation_summary, message_out

router = APIRouter(tags=["agents"])


def _fail(error: EscalationError) -> HTTPException:
    return HTTPException(error.status_code, error.detail)


@router.get("/api/agents/me", response_model=AgentOut)
def me(agent: CurrentAgent) -> AgentOut:
    return AgentOut(id=agent.id, name=agent.name)


@router.get("/api/escalations", response_model=list[EscalationSummary])
def queue(agent: CurrentAgent, session: SessionDep,
          status: Literal["open", "queued", "with_agent", "closed"] = "open") -> list[EscalationSummary]:
    """The queue: highest priority, then oldest, first."""
    return [escalation_summary(e) for e in escalations.listing(session, status)]


@router.get("/api/scorecard")
def scorecard(agent: CurrentAgent, session: SessionDep) -> dict:
    """The principles scorecard in aggregate over the handed-off conversations
    (the bot's own conversations: `python -m bot.scorecard`)."""
    return escalations.scorecard_summary(session)


@router.get("/api/escalations/{escalation_id}", response_model=EscalationDetail)
def detail(escalation_id: int, agent: CurrentAgent, session: SessionDep) -> EscalationDetail:
    """Everything the bot gathered, and the chat since the hand-off."""
    try:
        return escalation_detail(session, escalations.get(session, escalation_id))
    except EscalationError as error:
        raise _fail(error) from error


@router.post("/api/escalations/{escalation_id}/claim", response_model=EscalationSummary)
def claim(escalation_id: int, agent: CurrentAgent, session: SessionDep,
          hub: HubDep) -> EscalationSummary:
    try:
        return escalation_summary(escalations.claim(hub, session, escalation_id, agent))
    except EscalationError as error:
        raise _fail(error) from error


@router.post("/api/escalations/{escalation_id}/messages", response_model=MessageOut,
             status_code=201)
def write(escalation_id: int, body: AgentText, agent: CurrentAgent, session: SessionDep,
          hub: HubDep) -> MessageOut:
    text = body.text.strip()
    if not text or len(text) > hub.settings.max_message_length:
        raise HTTPException(422, f"text must be 1-{hub.settings.max_message_length} characters")
    try:
        return message_out(escalations.agent_message(hub, session, escalation_id, agent, text))
    except EscalationError as error:
        raise _fail(error) from error


@router.post("/api/escalations/{escalation_id}/typing", status_code=204)
def typing(escalation_id: int, agent: CurrentAgent, session: SessionDep, hub: HubDep) -> Response:
    try:
        escalation = escalations.get(session, escalation_id)
    except EscalationError as error:
        raise _fail(error) from error
    hub.bus.to_conversation(escalation.conversation_id, {"type": "typing", "sender": "agent",
                                                         "agent_name": agent.name})
    return Response(status_code=204)


@router.post("/api/escalations/{escalation_id}/resolve", response_model=EscalationSummary)
async def resolve(escalation_id: int, body: Resolve, agent: CurrentAgent, session: SessionDep,
                  hub: HubDep) -> EscalationSummary:
    try:
        escalation = await escalations.resolve(hub, session, escalation_id, agent,
                                               body.return_to_bot)
    except EscalationError as error:
        raise _fail(error) from error
    return escalation_summary(escalation)
