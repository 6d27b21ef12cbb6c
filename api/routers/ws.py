"""Live push: a customer's conversation, and the agents' queue."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, Optional

from fastapi import APIRouter, HTTPException, WebSocket, WebSocketDisconnect

from api.deps import agent_for_token, conversation_for_token
from api.events import Typing
from api.services import escalations
from api.services.hub import Hub

router = APIRouter(tags=["live"])
PING_SECONDS = 25


async def _pump(websocket: WebSocket, queue: asyncio.Queue[dict[str, Any]]) -> None:
    """Send bus events to the socket; ping when quiet so proxies keep it open."""
    while True:
        try:
            event = await asyncio.wait_for(queue.get(), timeout=PING_SECONDS)
        except asyncio.TimeoutError:
            event = {"type": "ping"}
        await websocket.send_json(event)


async def _serve(websocket: WebSocket, queue: asyncio.Queue[dict[str, Any]],
                 on_message: Optional[Callable[[Any], Awaitable[None]]] = None) -> None:
    pump = asyncio.create_task(_pump(websocket, queue))
    try:
        while True:
            data = await websocket.receive_json()
            if on_message:
                await on_message(data)
    except (WebSocketDisconnect, ValueError, RuntimeError):
        pass
    finally:
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pump


@router.websocket("/ws/conversations/{conversation_id}")
async def conversation_socket(websocket: WebSocket, conversation_id: str, token: str = "") -> None:
    hub: Hub = websocket.app.state.hub

    def check_token() -> None:
        with hub.database.sessions() as session:
            conversation_for_token(session, conversation_id, token)

    try:
        await asyncio.to_thread(check_token)
    except HTTPException as error:
        await websocket.close(code=4403 if error.status_code == 403 else 4404, reason=error.detail)
        return
    await websocket.accept()
    queue = hub.bus.subscribe_conversation(conversation_id)

    def open_escalation_id() -> Optional[int]:
        with hub.database.sessions() as session:
            escalation = escalations.open_for_conversation(session, conversation_id)
            return escalation.id if escalation is not None else None

    async def customer_event(data: Any) -> None:
        if not (isinstance(data, dict) and data.get("type") == "typing"):
            return
        escalation_id = await asyncio.to_thread(open_escalation_id)
        if escalation_id is not None:
            hub.events.emit(Typing(conversation_id, escalation_id, "customer"))

    try:
        await _serve(websocket, queue, customer_event)
    finally:
        hub.bus.unsubscribe_conversation(conversation_id, queue)


@router.websocket("/ws/agents")
async def agents_socket(websocket: WebSocket, token: str = "") -> None:
    hub: Hub = websocket.app.state.hub

    def known_agent() -> bool:
        with hub.database.sessions() as session:
            return agent_for_token(session, token, hub.settings.agent_token_days,
                                   hub.clock()) is not None

    if not await asyncio.to_thread(known_agent):
        await websocket.close(code=4401, reason="unknown, expired or revoked agent token")
        return
    await websocket.accept()
    queue = hub.bus.subscribe_agents()
    try:
        await _serve(websocket, queue)
    finally:
        hub.bus.unsubscribe_agents(queue)
