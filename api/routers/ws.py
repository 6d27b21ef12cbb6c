"""Live push: a customer's conversation, and the agents' queue.

Both sockets authenticate with their first frame, never the URL (URLs end up in access logs,
proxies and browser history): the client connects, then sends
`{"type": "auth", "token": "..."}` within NORDHEM_WS_AUTH_SECONDS. Once the socket is
subscribed the server sends `{"type": "ready"}`; events follow, and `{"type": "ping"}` when
quiet. The customer's socket takes `{"type": "typing"}` frames after that.

Close codes: 4400 a token in the URL, a first frame that is not an auth frame, or a frame
that is not JSON; 4401 unknown, expired or revoked agent token; 4403 the token is not this
conversation's; 4404 no such conversation; 4408 no auth frame in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, Optional

from fastapi import APIRouter, HTTPException, WebSocket, WebSocketDisconnect

from api.db import DATABASE_UNAVAILABLE
from api.deps import agent_for_token, conversation_for_token
from api.events import Typing
from api.services import agents, escalations
from api.services.hub import Hub

logger = logging.getLogger(__name__)
router = APIRouter(tags=["live"])
PING_SECONDS = 25
# what a client ever sends is an auth frame or a typing frame: `python -m api serve` refuses
# larger frames (close 1009), and an auth frame is checked for length before it is parsed
MAX_FRAME_BYTES = 4096
MAX_AUTH_FRAME_CHARS = 1024
AUTH_FRAME = 'the first frame must be {"type": "auth", "token": "..."}'


class Refused(Exception):
    """Close the socket with this application code and reason (at most 123 bytes)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


async def _first_frame_token(websocket: WebSocket, seconds: float) -> str:
    """The token of the auth frame; `Refused` without one in time."""
    if "token" in websocket.query_params:
        raise Refused(4400, "send the token in the first frame, never in the URL")
    try:
        message = await asyncio.wait_for(websocket.receive(), timeout=seconds)
    except asyncio.TimeoutError:
        raise Refused(4408, f"no auth frame within {seconds:g} s") from None
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text = message.get("text") or ""
    if len(text) > MAX_AUTH_FRAME_CHARS:  # not parsed: nobody is known yet
        raise Refused(4400, AUTH_FRAME)
    try:
        frame = json.loads(text)
    except ValueError:
        frame = None
    if not (isinstance(frame, dict) and frame.get("type") == "auth"
            and isinstance(frame.get("token", ""), str)):
        raise Refused(4400, AUTH_FRAME)
    return str(frame.get("token", "")).strip()


async def _authenticated(websocket: WebSocket, check: Callable[[str], None]) -> Optional[str]:
    """Accept, read the auth frame and run `check(token)` (in a thread: it reads the database;
    it raises `Refused`); the token, or None when the socket was closed instead."""
    hub: Hub = websocket.app.state.hub
    await websocket.accept()
    try:
        token = await _first_frame_token(websocket, hub.settings.ws_auth_seconds)
        await asyncio.to_thread(check, token)
    except Refused as refused:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(code=refused.code, reason=refused.reason)
        return None
    except WebSocketDisconnect:
        return None
    return token


Recheck = Callable[[], Awaitable[Optional[Refused]]]


async def _pump(websocket: WebSocket, queue: asyncio.Queue[dict[str, Any]],
                recheck: Optional[Recheck] = None, recheck_seconds: float = PING_SECONDS) -> None:
    """Send bus events to the socket; ping when quiet so proxies keep it open. With
    `recheck`, every `recheck_seconds` the socket's right to listen is checked again, and a
    refusal closes it."""
    quiet = min(PING_SECONDS, recheck_seconds) if recheck else PING_SECONDS
    checked = pinged = time.monotonic()
    while True:
        try:
            event: Optional[dict[str, Any]] = await asyncio.wait_for(queue.get(), timeout=quiet)
        except asyncio.TimeoutError:
            event = None
        now = time.monotonic()
        if recheck is not None and now - checked >= recheck_seconds:
            checked = now
            refused = await recheck()
            if refused is not None:
                await websocket.close(code=refused.code, reason=refused.reason)
                return
        if event is None:
            if now - pinged < PING_SECONDS:
                continue
            event = {"type": "ping"}
        pinged = now
        await websocket.send_json(event)


async def _serve(websocket: WebSocket, queue: asyncio.Queue[dict[str, Any]],
                 on_message: Optional[Callable[[Any], Awaitable[None]]] = None,
                 recheck: Optional[Recheck] = None, recheck_seconds: float = PING_SECONDS) -> None:
    """Say ready, then push the subscribed `queue` and hand each frame to `on_message`."""
    pump: Optional[asyncio.Task[None]] = None
    try:
        await websocket.send_json({"type": "ready"})
        pump = asyncio.create_task(_pump(websocket, queue, recheck, recheck_seconds))
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                data = json.loads(message.get("text") or "")
            except ValueError:
                await websocket.close(code=4400, reason="frames must be JSON text")
                return
            if on_message:
                await on_message(data)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        if pump is not None:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pump


@router.websocket("/ws/conversations/{conversation_id}")
async def conversation_socket(websocket: WebSocket, conversation_id: str) -> None:
    """The customer's conversation: agent messages, queue place, typing, status."""
    hub: Hub = websocket.app.state.hub

    def check_token(token: str) -> None:
        with hub.database.sessions() as session:
            try:
                conversation_for_token(session, conversation_id, token)
            except HTTPException as error:
                if error.status_code == 404:
                    raise Refused(4404, "no such conversation") from None
                raise Refused(4403, "this token does not belong to this conversation") from None

    if await _authenticated(websocket, check_token) is None:
        return
    queue = hub.bus.subscribe_conversation(conversation_id)

    def open_escalation_id() -> Optional[int]:
        with hub.database.sessions() as session:
            escalation = escalations.open_for_conversation(session, conversation_id)
            return escalation.id if escalation is not None else None

    async def customer_event(data: Any) -> None:
        if not (isinstance(data, dict) and data.get("type") == "typing"):
            return
        # the throttle first: the signals within the interval cost no database query
        if not hub.typing.allow(("customer", conversation_id), hub.clock()):
            return
        escalation_id = await asyncio.to_thread(open_escalation_id)
        if escalation_id is not None:
            hub.events.emit(Typing(conversation_id, escalation_id, "customer"))

    try:
        await _serve(websocket, queue, customer_event)
    finally:
        hub.bus.unsubscribe_conversation(conversation_id, queue)


def _console_gone(hub: Hub, agent_id: int) -> None:
    """The agent's last console socket here closed: online becomes offline."""
    try:
        agents.console_gone(hub.database.sessions, agent_id)
    except DATABASE_UNAVAILABLE:
        logger.warning("agent %s left the console while the database was not answering; "
                       "their presence stays online", agent_id)


@router.websocket("/ws/agents")
async def agents_socket(websocket: WebSocket) -> None:
    """The agents' queue and the chats in it, live."""
    hub: Hub = websocket.app.state.hub
    who: list[int] = []
    taken: list[frozenset[str]] = []

    def check_token(token: str) -> None:
        with hub.database.sessions() as session:
            agent = agent_for_token(session, token, hub.settings.agent_token_days, hub.clock())
            if agent is None:
                raise Refused(4401, "unknown, expired or revoked agent token")
            who[:] = [agent.id]
            # the escalation languages whose events this console receives (as its queue)
            taken[:] = [agents.languages_taken(agent.languages, hub.settings.language_fallbacks)]

    token = await _authenticated(websocket, check_token)
    if token is None:
        return
    agent_id = who[0]

    async def still_an_agent() -> Optional[Refused]:
        try:
            await asyncio.to_thread(check_token, token)
        except Refused as refused:
            return refused
        return None

    queue = hub.bus.subscribe_agents(taken[0])
    # an open console is an agent at work (api/services/agents.py: presence)
    hub.consoles.opened(agent_id)
    try:
        if await asyncio.to_thread(agents.console_connected, hub.database.sessions, agent_id) \
                and hub.settings.auto_assign:
            await asyncio.to_thread(escalations.auto_assign, hub)
        await _serve(websocket, queue, recheck=still_an_agent,
                     recheck_seconds=hub.settings.ws_recheck_seconds)
    finally:
        hub.bus.unsubscribe_agents(queue)
        if hub.consoles.closed(agent_id):
            # a thread of its own, not awaited: this task may be cancelled as the socket ends
            # (then an awaited call may never start), and the agent must still go offline
            threading.Thread(target=_console_gone, args=(hub, agent_id), daemon=True).start()
