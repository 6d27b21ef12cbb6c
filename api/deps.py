"""Request dependencies as Annotated aliases, so routes read like sentences."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated, cast

from fastapi import Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import release_connection
from api.models import Agent, Conversation, utcnow
from api.rate_limits import RateLimits
from api.security import hash_token
from api.services.hub import Hub

# auto_error=False: a missing or non-Bearer header gets our own 401 with a hint
BEARER = HTTPBearer(auto_error=False, description="an agent's token, or a conversation's "
                                                  "customer token")


def get_hub(request: Request) -> Hub:
    return cast(Hub, request.app.state.hub)


def get_session(hub: Annotated[Hub, Depends(get_hub)]) -> Iterator[Session]:
    yield from hub.database.session()


HubDep = Annotated[Hub, Depends(get_hub)]
SessionDep = Annotated[Session, Depends(get_session)]


def bearer(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]) -> str:
    if credentials is None or not credentials.credentials.strip():
        raise HTTPException(401, "missing bearer token (Authorization: Bearer <token>)",
                            headers={"WWW-Authenticate": "Bearer"})
    return credentials.credentials.strip()


def agent_for_token(session: Session, token: str, token_days: int,
                    now: dt.datetime | None = None) -> Agent | None:
    """The agent whose token this is, while it is neither revoked nor expired, and the
    agent is active."""
    agent = session.scalar(select(Agent).where(Agent.token_hash == hash_token(token)))
    if agent is None or agent.revoked_at is not None or not agent.active:
        return None
    issued = agent.token_issued_at or agent.created_at
    if (now or utcnow()) - issued > dt.timedelta(days=token_days):
        return None
    return agent


def current_agent(session: SessionDep, hub: HubDep,
                  token: Annotated[str, Depends(bearer)]) -> Agent:
    agent = agent_for_token(session, token, hub.settings.agent_token_days, hub.clock())
    if agent is None:
        raise HTTPException(401, "unknown, expired or revoked agent token (or the agent "
                                 "was deactivated)", headers={"WWW-Authenticate": "Bearer"})
    release_connection(session)
    return agent


def current_admin(agent: Annotated[Agent, Depends(current_agent)]) -> Agent:
    if not agent.is_admin:
        raise HTTPException(403, "only an admin may manage agents (python -m api agents set "
                                 "NAME --admin makes one)")
    return agent


def conversation_for_token(session: Session, conversation_id: str, token: str) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise HTTPException(404, f"no conversation {conversation_id}")
    if not conversation.customer_token_hash or \
            conversation.customer_token_hash != hash_token(token):
        raise HTTPException(403, "this token does not belong to this conversation")
    return conversation


def current_conversation(conversation_id: str, session: SessionDep,
                         token: Annotated[str, Depends(bearer)]) -> Conversation:
    conversation = conversation_for_token(session, conversation_id, token)
    release_connection(session)
    return conversation



CurrentAgent = Annotated[Agent, Depends(current_agent)]
CurrentAdmin = Annotated[Agent, Depends(current_admin)]
CurrentConversation = Annotated[Conversation, Depends(current_conversation)]


def get_rate_limits(request: Request) -> RateLimits:
    return cast(RateLimits, request.app.state.rate_limits)


async def conversation_within_limit(
        conversation: CurrentConversation,
        limits: Annotated[RateLimits, Depends(get_rate_limits)]) -> Conversation:
    """The conversation, when its customer may send one more message now (else 429).
    Counted after the token check, so that someone who only knows a conversation's id
    (it is in URLs and logs) cannot use up its customer's messages; the per-IP limit
    already guards that check."""
    await limits.message(conversation.id)
    return conversation


ConversationWithinLimit = Annotated[Conversation, Depends(conversation_within_limit)]

# Row ids are INTEGER columns: PostgreSQL holds at most 2**31 - 1, so a larger id cannot
# exist and is refused with 422 instead of failing in the database with a 500.
MAX_ROW_ID = 2**31 - 1
EscalationId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="the escalation's id")]
AgentId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="the agent's id")]
