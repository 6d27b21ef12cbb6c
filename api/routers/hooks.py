"""Signed hooks: the bot creates escalations; a helpdesk posts agent replies back."""

from __future__ import annotations

import asyncio
import json

from fastapi import APIRouter, Header, HTTPException, Request
from pydantic import ValidationError

from api.deps import HubDep, SessionDep
from api.schemas import EscalationHook, EscalationReceipt, HelpdeskReply, MessageOut
from api.security import signature_valid
from api.services import escalations
from api.services.escalations import EscalationError
from api.services.serialize import message_out

router = APIRouter(prefix="/hooks", tags=["hooks"])


async def _verified_json(request: Request, secret: str, signature: str | None) -> dict:
    body = await request.body()
    if not secret:
        raise HTTPException(503, "hook secret is not configured on this service")
    if not signature_valid(body, secret, signature):
        raise HTTPException(401, "bad or missing X-Signature (HMAC-SHA256 of the body)")
    try:
        data = json.loads(body)
    except ValueError as error:
        raise HTTPException(400, "body is not JSON") from error
    if not isinstance(data, dict):
        raise HTTPException(422, "body must be a JSON object")
    return data


def _validated(model, data: dict):
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise HTTPException(422, json.loads(error.json())) from error


@router.post("/escalations", response_model=EscalationReceipt, status_code=201)
async def create_escalation(request: Request, session: SessionDep, hub: HubDep,
                            x_signature: str | None = Header(None)) -> EscalationReceipt:
    """Create an escalation from the action server (body signed with the shared secret)."""
    data = await _verified_json(request, hub.settings.hook_secret, x_signature)
    hook = _validated(EscalationHook, data)
    try:
        return await asyncio.to_thread(escalations.create_from_hook, hub, session, hook)
    except EscalationError as error:
        raise HTTPException(error.status_code, error.detail) from error


@router.post("/helpdesk/messages", response_model=MessageOut, status_code=201)
async def helpdesk_reply(request: Request, session: SessionDep, hub: HubDep,
                         x_signature: str | None = Header(None)) -> MessageOut:
    """A reply an agent wrote in the company's helpdesk, to the customer's chat."""
    data = await _verified_json(request, hub.settings.helpdesk_secret, x_signature)
    reply = _validated(HelpdeskReply, data)
    try:
        escalations.remember_hook(session, "helpdesk", reply.event_id, None,
                                  hub.settings.hook_max_age_seconds)
        escalation = escalations.by_reference(session, reply.reference)
        if escalation.status == "closed":
            raise EscalationError(409, f"escalation {reply.reference} is resolved")
        text = reply.text.strip()
        if len(text) > hub.settings.max_message_length:
            raise EscalationError(422, "text is too long")
        message = escalations.post_agent_message(hub, session, escalation, reply.agent_name, text)
    except EscalationError as error:
        session.rollback()
        raise HTTPException(error.status_code, error.detail) from error
    return message_out(message)
