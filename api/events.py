"""Things that happen (escalation.created, message.created, ...) and who listens.

Listeners are the WebSocket connections of customers and agents (live push) and the
outbox (helpdesk webhooks). Publishing never blocks the request that caused it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from typing import Any


class EventBus:
    """In-process fan-out to WebSocket queues: per conversation and to all agents.

    Publishing is safe from any thread (database work runs in worker threads); the
    queues are filled on the event loop that created the bus.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop or asyncio.get_running_loop()
        self._conversations: dict[str, set[asyncio.Queue]] = defaultdict(set)
        self._agents: set[asyncio.Queue] = set()

    def subscribe_conversation(self, conversation_id: str) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=1000)
        self._conversations[conversation_id].add(queue)
        return queue

    def unsubscribe_conversation(self, conversation_id: str, queue: asyncio.Queue) -> None:
        self._conversations[conversation_id].discard(queue)
        if not self._conversations[conversation_id]:
            del self._conversations[conversation_id]

    def subscribe_agents(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=1000)
        self._agents.add(queue)
        return queue

    def unsubscribe_agents(self, queue: asyncio.Queue) -> None:
        self._agents.discard(queue)

    @staticmethod
    def _put(queue: asyncio.Queue, event: dict[str, Any]) -> None:
        # a stuck client loses live events; it resyncs from the history when it reconnects
        with contextlib.suppress(asyncio.QueueFull):
            queue.put_nowait(event)

    def _offer(self, queue: asyncio.Queue, event: dict[str, Any]) -> None:
        try:
            on_loop = asyncio.get_running_loop() is self._loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            self._put(queue, event)
        else:
            self._loop.call_soon_threadsafe(self._put, queue, event)

    def to_conversation(self, conversation_id: str, event: dict[str, Any]) -> None:
        for queue in list(self._conversations.get(conversation_id, ())):
            self._offer(queue, event)

    def to_agents(self, event: dict[str, Any]) -> None:
        for queue in list(self._agents):
            self._offer(queue, event)

    @property
    def agents_connected(self) -> int:
        return len(self._agents)
