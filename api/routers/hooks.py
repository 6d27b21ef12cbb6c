"""Signed hooks: the bot creates escalations; a helpdesk posts agent replies back."""

from __future__ import annotations

import asyncio
import json
from typing import Any, TypeVar

from fastapi import APIRouter, Header, HTTPException, Request, Response
from pydantic import BaseModel, ValidationError

from api.deps import HubDep, SessionDep
from api.errors import validation_details
from api.openapi import json_body
from api.schemas import EscalationHook, EscalationReceipt, HelpdeskReply, MessageOut
from api.security import signature_valid
from api.services import escalations
from api.services.serialize import message_out

router = APIRouter(prefix="/hooks", tags=["hooks"])
BODIES: list[type[BaseModel]] = [EscalationHook, HelpdeskReply]
Body = TypeVar("Body", bound=BaseModel)


async def _verified_json(request: Request, secret: str, signature: str | None) -> dict[str, Any]:
    body = await request.body()
    if not secret:
        raise HTTPException(503, "hook secret is not configured on this service")
    if not signature_valid(body, secret, signature):
        raise HTTPException(401, "bad or missing X-Signature (HMAC-SHA256 of the body)")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as error:  # RecursionError: nested too deep
        raise HTTPException(400, "body is not JSON, or is nested too deeply") from error
    if not isinstance(data, dict):
        raise HTTPException(422, "body must be a JSON object")
    return data


def _validated(model: type[Body], data: dict[str, Any]) -> Body:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise HTTPException(422, validation_details(error.errors())) from error


@router.post("/escalations", response_model=EscalationReceipt, status_code=201,
             openapi_extra=json_body(EscalationHook), responses={
    200: {"model": EscalationReceipt,
          "description": "the conversation already has an open escalation: its receipt"},
    409: {"description": "a replayed event id, or a conversation that is closed"}})
async def create_escalation(request: Request, response: Response, session: SessionDep,
                            hub: HubDep,
                            x_signature: str | None = Header(None)) -> EscalationReceipt:
    """Create an escalation from the action server (body signed with the shared secret).
    Idempotent per conversation: while one is open, a new hook gets that one's receipt."""
    data = await _verified_json(request, hub.settings.hook_secret, x_signature)
    hook = _validated(EscalationHook, data)
    receipt, created = await asyncio.to_thread(escalations.create_from_hook, hub, session, hook)
    if not created:
        response.status_code = 200
    return receipt


@router.post("/helpdesk/messages", response_model=MessageOut, status_code=201,
             openapi_extra=json_body(HelpdeskReply))
async def helpdesk_reply(request: Request, session: SessionDep, hub: HubDep,
                         x_signature: str | None = Header(None)) -> MessageOut:
    """A reply an agent wrote in the company's helpdesk, to the customer's chat."""
    data = await _verified_json(request, hub.settings.helpdesk_secret, x_signature)
    reply = _validated(HelpdeskReply, data)
    message = await asyncio.to_thread(escalations.helpdesk_reply, session, reply,
                                      hub.settings.hook_max_age_seconds,
                                      hub.settings.max_message_length)
    return message_out(message)
