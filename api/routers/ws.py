"""Live push: a customer's conversation, and the agents' queue."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, HTTPException, WebSocket, WebSocketDisconnect

from api.deps import agent_for_token, conversation_for_token
from api.services import escalations

router = APIRouter(tags=["live"])
PING_SECONDS = 25


async def _pump(websocket: WebSocket, queue: asyncio.Queue) -> None:
    """Send bus events to the socket; ping when quiet so proxies keep it open."""
    while True:
        try:
            event = await asyncio.wait_for(queue.get(), timeout=PING_SECONDS)
        except asyncio.TimeoutError:
            event = {"type": "ping"}
        await websocket.send_json(event)


async def _serve(websocket: WebSocket, queue: asyncio.Queue, on_message=None) -> None:
    pump = asyncio.create_task(_pump(websocket, queue))
    try:
        while True:
            data = await websocket.receive_json()
            if on_message:
                on_message(data)
    except (WebSocketDisconnect, ValueError, RuntimeError):
        pass
    finally:
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pump


@router.websocket("/ws/conversations/{conversation_id}")
async def conversation_socket(websocket: WebSocket, conversation_id: str, token: str = "") -> None:
    hub = websocket.app.state.hub
    with hub.database.sessions() as session:
        try:
            conversation_for_token(session, conversation_id, token)
        except HTTPException as error:
            await websocket.close(code=4403 if error.status_code == 403 else 4404,
                                  reason=error.detail)
            return
    await websocket.accept()
    queue = hub.bus.subscribe_conversation(conversation_id)

    def customer_event(data: dict) -> None:
        if not (isinstance(data, dict) and data.get("type") == "typing"):
            return
        with hub.database.sessions() as session:
            escalation = escalations.latest_for_conversation(session, conversation_id)
        if escalation is not None and escalation.status != "closed":
            hub.bus.to_agents({"type": "typing", "escalation_id": escalation.id,
                               "conversation_id": conversation_id, "sender": "customer"})

    try:
        await _serve(websocket, queue, customer_event)
    finally:
        hub.bus.unsubscribe_conversation(conversation_id, queue)


@router.websocket("/ws/agents")
async def agents_socket(websocket: WebSocket, token: str = "") -> None:
    hub = websocket.app.state.hub
    with hub.database.sessions() as session:
        if agent_for_token(session, token) is None:
            await websocket.close(code=4401, reason="unknown agent token")
            return
    await websocket.accept()
    queue = hub.bus.subscribe_agents()
    try:
        await _serve(websocket, queue)
    finally:
        hub.bus.unsubscribe_agents(queue)
