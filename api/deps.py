"""Request dependencies as Annotated aliases, so routes read like sentences."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated, cast

from fastapi import Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import Agent, Conversation, utcnow
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
    """The agent whose token this is, while it is neither revoked nor expired."""
    agent = session.scalar(select(Agent).where(Agent.token_hash == hash_token(token)))
    if agent is None or agent.revoked_at is not None:
        return None
    issued = agent.token_issued_at or agent.created_at
    if (now or utcnow()) - issued > dt.timedelta(days=token_days):
        return None
    return agent


def current_agent(session: SessionDep, hub: HubDep,
                  token: Annotated[str, Depends(bearer)]) -> Agent:
    agent = agent_for_token(session, token, hub.settings.agent_token_days, hub.clock())
    if agent is None:
        raise HTTPException(401, "unknown, expired or revoked agent token",
                            headers={"WWW-Authenticate": "Bearer"})
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
    return conversation_for_token(session, conversation_id, token)


CurrentAgent = Annotated[Agent, Depends(current_agent)]
CurrentConversation = Annotated[Conversation, Depends(current_conversation)]

# an escalation's id as the database can hold it: a larger one cannot exist (404, not 500)
EscalationId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the escalation's id")]
