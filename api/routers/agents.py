"""Agents: one's own profile and presence; an admin manages the others (the same as
`python -m api agents`). The rules are in api/services/agents.py."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import AgentId, CurrentAdmin, CurrentAgent, HubDep, SessionDep
from api.models import Agent
from api.schemas import (
    AgentChange,
    AgentOut,
    AgentWithToken,
    NewAgent,
    Preferences,
    PresenceChange,
)
from api.services import agents, escalations
from api.services.hub import Hub

router = APIRouter(tags=["agents"])
ADMIN_ONLY: dict[int | str, dict[str, Any]] = {
    401: {"description": "no valid agent token"},
    403: {"description": "the agent is not an admin"}}
UNKNOWN_AGENT: dict[int | str, dict[str, Any]] = {404: {"description": "no such agent"}}


def _assign_if_enabled(hub: Hub) -> None:
    """An agent came online or got room or languages: auto-assignment may give them some."""
    if hub.settings.auto_assign:
        escalations.auto_assign(hub)


def _with_token(session: SessionDep, agent: Agent, token: str) -> AgentWithToken:
    return AgentWithToken(**agents.profile(session, agent).model_dump(), token=token)


@router.get("/api/agents/me", response_model=AgentOut)
def me(agent: CurrentAgent, session: SessionDep) -> AgentOut:
    """Who the token belongs to: languages, capacity, presence and load."""
    return agents.profile(session, agent)


@router.put("/api/agents/me/presence", response_model=AgentOut)
def presence(body: PresenceChange, agent: CurrentAgent, session: SessionDep,
             hub: HubDep) -> AgentOut:
    """Online (takes conversations), away (at work, offered none) or offline. Set by the
    console, or by an agent working in a helpdesk. Opening the console sets an offline agent
    online, and closing the last one sets an online agent offline."""
    if agents.set_presence(session, agent, body.presence):
        _assign_if_enabled(hub)
    return agents.profile(session, agent)


@router.put("/api/agents/me/preferences", response_model=AgentOut, responses={
    401: {"description": "no valid agent token"},
    422: {"description": "an unknown console language or time zone, or nothing to change"}})
def preferences(body: Preferences, agent: CurrentAgent, session: SessionDep) -> AgentOut:
    """The language the agent reads the console and the summaries in (nb, da, sv, en), and
    the IANA time zone its times are shown in (e.g. Europe/Stockholm)."""
    agents.set_preferences(session, agent, body)
    return agents.profile(session, agent)


@router.get("/api/agents", response_model=list[AgentOut], responses=ADMIN_ONLY)
def every_agent(admin: CurrentAdmin, session: SessionDep) -> list[AgentOut]:
    """Every agent, active ones first."""
    return agents.profiles(session)


@router.post("/api/agents", response_model=AgentWithToken, status_code=201, responses={
    **ADMIN_ONLY, 409: {"description": "an active agent already has that name"}})
def create(body: NewAgent, admin: CurrentAdmin, session: SessionDep) -> AgentWithToken:
    """A new agent, offline until they open the console. The token is in this answer only."""
    agent, token = agents.create(session, body.name, body.languages, body.max_conversations,
                                 body.is_admin)
    return _with_token(session, agent, token)


@router.patch("/api/agents/{agent_id}", response_model=AgentOut, responses={
    **ADMIN_ONLY, **UNKNOWN_AGENT,
    409: {"description": "deactivating an agent who holds open conversations, an admin "
                         "deactivating or demoting themselves, or reactivating an agent whose "
                         "name an active agent has"}})
def change(agent_id: AgentId, body: AgentChange, admin: CurrentAdmin, session: SessionDep,
           hub: HubDep) -> AgentOut:
    """Languages, capacity, admin right, active, console language and time zone; what is
    left out stays as it is."""
    agent = agents.change(session, agents.get(session, agent_id), body, by=admin)
    _assign_if_enabled(hub)
    return agents.profile(session, agent)


@router.post("/api/agents/{agent_id}/rotate", response_model=AgentWithToken,
             responses={**ADMIN_ONLY, **UNKNOWN_AGENT})
def rotate(agent_id: AgentId, admin: CurrentAdmin, session: SessionDep) -> AgentWithToken:
    """A new token for the agent, in this answer only; the old one stops working at once."""
    agent = agents.get(session, agent_id)
    token = agents.rotate_token(agent)
    session.commit()
    return _with_token(session, agent, token)
