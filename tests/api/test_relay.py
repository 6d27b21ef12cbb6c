"""WebSocket events across service processes through the real Redis (NORDHEM_BUS_URL)."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import redis

from api.relay import RedisEventBus

REDIS_URL = "redis://127.0.0.1:6379/2"


async def next_event(queue: asyncio.Queue[dict[str, Any]]) -> dict[str, Any]:
    return await asyncio.wait_for(queue.get(), timeout=5)


async def two_processes(channel: str) -> tuple[RedisEventBus, RedisEventBus]:
    buses = RedisEventBus(REDIS_URL, channel=channel), RedisEventBus(REDIS_URL, channel=channel)
    for bus in buses:
        await bus.start()
    return buses


def test_an_event_reaches_the_socket_on_the_other_process_once() -> None:
    async def scenario() -> None:
        customers_process, agents_process = await two_processes(f"test:{secrets.token_hex(4)}")
        customer = customers_process.subscribe_conversation("c1")
        elsewhere = customers_process.subscribe_conversation("c2")
        agents_process.to_conversation("c1", {"type": "message", "text": "Hei, Kari her"})
        agents_process.to_conversation("c1", {"type": "message", "text": "Jeg ser på det"})
        assert (await next_event(customer))["text"] == "Hei, Kari her"
        assert (await next_event(customer))["text"] == "Jeg ser på det"  # in order
        # the publishing process's own socket gets it too, once
        own = agents_process.subscribe_conversation("c3")
        agents_process.to_conversation("c3", {"type": "queue"})
        assert (await next_event(own))["type"] == "queue"
        await asyncio.sleep(0.2)
        assert own.empty() and customer.empty() and elsewhere.empty()
        for bus in (customers_process, agents_process):
            await bus.close()
    asyncio.run(scenario())


def test_agents_on_another_process_get_only_their_languages() -> None:
    async def scenario() -> None:
        first, second = await two_processes(f"test:{secrets.token_hex(4)}")
        danish = second.subscribe_agents(frozenset({"da"}))
        everyone = second.subscribe_agents(None)
        first.to_agents({"type": "escalation.created", "reference": "N-1"}, language="sv")
        first.to_agents({"type": "escalation.created", "reference": "N-2"}, language="da")
        assert (await next_event(everyone))["reference"] == "N-1"
        assert (await next_event(everyone))["reference"] == "N-2"
        assert (await next_event(danish))["reference"] == "N-2"
        await asyncio.sleep(0.2)
        assert danish.empty()
        for bus in (first, second):
            await bus.close()
    asyncio.run(scenario())


def test_a_message_on_the_channel_that_is_not_an_event_is_ignored() -> None:
    async def scenario() -> None:
        channel = f"test:{secrets.token_hex(4)}"
        first, second = await two_processes(channel)
        queue = second.subscribe_conversation("c1")
        redis.Redis.from_url(REDIS_URL).publish(channel, b"not json")
        redis.Redis.from_url(REDIS_URL).publish(channel, b'{"conversation_id": 5}')
        first.to_conversation("c1", {"type": "message"})
        assert (await next_event(queue))["type"] == "message"  # the listener lives on
        for bus in (first, second):
            await bus.close()
    asyncio.run(scenario())


def test_without_redis_this_process_s_sockets_still_get_their_events() -> None:
    async def scenario() -> None:
        # nothing listens on port 1: publishing fails at once
        bus = RedisEventBus("redis://127.0.0.1:1/0", channel="test:down")
        await bus.start()
        queue = bus.subscribe_conversation("c1")
        agents = bus.subscribe_agents(frozenset({"nb"}))
        bus.to_conversation("c1", {"type": "message"})
        bus.to_agents({"type": "typing"}, language="nb")
        assert (await next_event(queue))["type"] == "message"
        assert (await next_event(agents))["type"] == "typing"
        await bus.close()
    asyncio.run(scenario())
