"""Request dependencies as Annotated aliases, so routes read like sentences."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import Agent, Conversation, utcnow
from api.security import hash_token
from api.services.hub import Hub


def get_hub(request: Request) -> Hub:
    return request.app.state.hub


def get_session(hub: Annotated[Hub, Depends(get_hub)]) -> Iterator[Session]:
    yield from hub.database.session()


HubDep = Annotated[Hub, Depends(get_hub)]
SessionDep = Annotated[Session, Depends(get_session)]


def bearer(authorization: Annotated[str | None, Header()] = None) -> str:
    if not authorization or not authorization.startswith("Bearer "):
        raise HTTPException(401, "missing bearer token (Authorization: Bearer <token>)")
    return authorization.removeprefix("Bearer ").strip()


def agent_for_token(session: Session, token: str) -> Agent | None:
    agent = session.scalar(select(Agent).where(Agent.token_hash == hash_token(token)))
    if agent is not None:
        agent.last_seen_at = utcnow()
        session.commit()
    return agent


def current_agent(session: SessionDep, token: Annotated[str, Depends(bearer)]) -> Agent:
    agent = agent_for_token(session, token)
    if agent is None:
        raise HTTPException(401, "unknown agent token")
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
