"""WebSocket events across service processes, through Redis pub/sub (NORDHEM_BUS_URL).

With several service processes a customer's socket and the agent who answers may sit on
different processes. `RedisEventBus` publishes every live event to one Redis channel; each
process subscribes (before it serves anything) and hands what arrives to its own sockets,
its own events included, so every event is delivered once per socket whichever process
caused it. Events from one process arrive in the order it published them.

Publishing never holds up the caller (a request's thread or the event loop): events go on
a queue that one publisher thread sends, in order, with short timeouts and no retries. When
Redis does not take an event, that event and every event for the next `LOCAL_SECONDS` are
delivered to this process's sockets only (logged): a customer or agent on another process
misses live events until Redis is back, and catches up from the history when their socket
reconnects, as after any interruption. The subscriber checks its connection every
`HEALTH_CHECK_SECONDS`, so a connection that died silently is noticed and replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import queue
import threading
import time
from typing import Any, Optional

import redis
import redis.asyncio as aioredis
from redis.backoff import NoBackoff
from redis.retry import Retry

from api.events import EventBus

logger = logging.getLogger(__name__)
CHANNEL = "nordhem:live"
RECONNECT_SECONDS = 1.0
LOCAL_SECONDS = 5.0  # after Redis failed to take an event: local delivery only, this long
HEALTH_CHECK_SECONDS = 10


class RedisEventBus(EventBus):
    """EventBus whose deliveries go through a Redis channel to every process's sockets."""

    def __init__(self, url: str, loop: asyncio.AbstractEventLoop | None = None,
                 channel: str = CHANNEL) -> None:
        super().__init__(loop)
        self.url, self.channel = url, channel
        self._publisher = redis.Redis.from_url(url, socket_timeout=0.5,
                                               socket_connect_timeout=0.5,
                                               retry=Retry(NoBackoff(), 0))
        self._outgoing: queue.SimpleQueue[Optional[dict[str, Any]]] = queue.SimpleQueue()
        self._local_until = 0.0
        self._sender = threading.Thread(target=self._send_forever, name="bus-publisher",
                                        daemon=True)
        self._listening: Optional[asyncio.Task[None]] = None

    async def start(self) -> None:
        """Subscribe, then listen in the background: nothing published after this returns
        is missed (when Redis is down, it keeps trying and delivers locally meanwhile)."""
        self._sender.start()
        pubsub = await self._subscribe()
        self._listening = asyncio.create_task(self._listen(pubsub))

    async def close(self) -> None:
        if self._listening is not None:
            self._listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listening
        if self._sender.is_alive():
            self._outgoing.put(None)
            await asyncio.to_thread(self._sender.join, 5)
        self._publisher.close()

    def to_conversation(self, conversation_id: str, event: dict[str, Any]) -> None:
        self._publish({"conversation_id": conversation_id, "event": event})

    def to_agents(self, event: dict[str, Any], language: Optional[str] = None) -> None:
        self._publish({"agents": True, "language": language, "event": event})

    def _publish(self, envelope: dict[str, Any]) -> None:
        """Queued for the publisher thread: the caller never waits for Redis."""
        self._outgoing.put(envelope)

    def _send_forever(self) -> None:
        while (envelope := self._outgoing.get()) is not None:
            if time.monotonic() < self._local_until:
                self._deliver(envelope)
                continue
            try:
                self._publisher.publish(self.channel, json.dumps(envelope, default=str))
            except (redis.RedisError, TypeError, ValueError) as error:
                self._local_until = time.monotonic() + LOCAL_SECONDS
                logger.warning("bus: Redis did not take an event (%s); this process's sockets "
                               "only for %s s", type(error).__name__, LOCAL_SECONDS)
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
        client = aioredis.Redis.from_url(self.url, socket_connect_timeout=1,
                                         socket_keepalive=True,
                                         health_check_interval=HEALTH_CHECK_SECONDS)
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(self.channel)
            return pubsub
        except (redis.RedisError, OSError) as error:
            logger.warning("bus: cannot subscribe to Redis (%s); retrying", type(error).__name__)
            await _close_quietly(pubsub)
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
            except Exception:  # noqa: BLE001 - the listener must outlive any one failure
                logger.exception("bus: listener failed; resubscribing")
            finally:
                await _close_quietly(pubsub)
            pubsub = None


async def _close_quietly(pubsub: aioredis.client.PubSub) -> None:
    """The subscription and its connection pool, closed; errors of a dead Redis ignored."""
    with contextlib.suppress(redis.RedisError, OSError):
        await pubsub.aclose()
    # the pubsub's own client's pool was created for it alone: no other user to keep it for
    with contextlib.suppress(redis.RedisError, OSError):
        await pubsub.connection_pool.disconnect()


def event_bus(bus_url: str, channel: str = CHANNEL) -> EventBus:
    """The process's bus: through Redis with NORDHEM_BUS_URL, else in-process."""
    return RedisEventBus(bus_url, channel=channel) if bus_url else EventBus()
