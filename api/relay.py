"""WebSocket events across service processes, through Redis pub/sub (NORDHEM_BUS_URL).

With several service processes a customer's socket and the agent who answers may sit on
different processes. `RedisEventBus` publishes every live event to one Redis channel; each
process subscribes (before it serves anything) and hands what arrives to its own sockets,
its own events included, so every event is delivered once per socket whichever process
caused it. Events from one process arrive in the order it published them.

When Redis does not answer, events are delivered to this process's sockets only (logged):
a customer or agent on another process misses live events until Redis is back, and catches
up from the history when their socket reconnects, as after any interruption.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any, Optional

import redis
import redis.asyncio as aioredis

from api.events import EventBus

logger = logging.getLogger(__name__)
CHANNEL = "nordhem:live"
RECONNECT_SECONDS = 1.0


class RedisEventBus(EventBus):
    """EventBus whose deliveries go through a Redis channel to every process's sockets."""

    def __init__(self, url: str, loop: asyncio.AbstractEventLoop | None = None,
                 channel: str = CHANNEL) -> None:
        super().__init__(loop)
        self.url, self.channel = url, channel
        # publishing happens after commits, often in worker threads: a thread-safe client
        self._publisher = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self._listening: Optional[asyncio.Task[None]] = None

    async def start(self) -> None:
        """Subscribe, then listen in the background: nothing published after this returns
        is missed (when Redis is down, it keeps trying and delivers locally meanwhile)."""
        pubsub = await self._subscribe()
        self._listening = asyncio.create_task(self._listen(pubsub))

    async def close(self) -> None:
        if self._listening is not None:
            self._listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listening
        self._publisher.close()

    def to_conversation(self, conversation_id: str, event: dict[str, Any]) -> None:
        self._publish({"conversation_id": conversation_id, "event": event})

    def to_agents(self, event: dict[str, Any], language: Optional[str] = None) -> None:
        self._publish({"agents": True, "language": language, "event": event})

    def _publish(self, envelope: dict[str, Any]) -> None:
        try:
            self._publisher.publish(self.channel, json.dumps(envelope, default=str))
        except redis.RedisError as error:
            logger.warning("bus: Redis did not take an event (%s); this process's sockets only",
                           type(error).__name__)
            self._deliver(envelope)

    def _deliver(self, envelope: dict[str, Any]) -> None:
        if envelope.get("agents"):
            EventBus.to_agents(self, envelope["event"], envelope.get("language"))
        else:
            EventBus.to_conversation(self, envelope["conversation_id"], envelope["event"])

    def _receive(self, data: bytes) -> None:
        try:
            envelope = json.loads(data)
            self._deliver(envelope)
        except (ValueError, KeyError, TypeError, AttributeError):
            logger.warning("bus: ignored a message on %s that is not an event", self.channel)

    async def _subscribe(self) -> Optional[aioredis.client.PubSub]:
        try:
            pubsub = aioredis.Redis.from_url(self.url, socket_connect_timeout=1).pubsub()
            await pubsub.subscribe(self.channel)
            return pubsub
        except (redis.RedisError, OSError) as error:
            logger.warning("bus: cannot subscribe to Redis (%s); retrying", type(error).__name__)
            return None

    async def _listen(self, pubsub: Optional[aioredis.client.PubSub]) -> None:
        while True:
            if pubsub is None:
                await asyncio.sleep(RECONNECT_SECONDS)
                pubsub = await self._subscribe()
                continue
            try:
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self._receive(message["data"])
            except (redis.RedisError, OSError) as error:
                logger.warning("bus: lost Redis (%s); resubscribing", type(error).__name__)
            with contextlib.suppress(redis.RedisError, OSError):
                await pubsub.aclose()
            pubsub = None


def event_bus(bus_url: str, channel: str = CHANNEL) -> EventBus:
    """The process's bus: through Redis with NORDHEM_BUS_URL, else in-process."""
    return RedisEventBus(bus_url, channel=channel) if bus_url else EventBus()
