"""Rate limits at the front door (api/rate_limits.py): per IP before any database work,
per conversation after its token; 429 with Retry-After; counted in Redis when configured,
and still counted when Redis does not answer."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import func, select
from starlette.testclient import WebSocketDenialResponse

from api.db import Database
from api.main import create_app
from api.models import Conversation
from api.rate_limits import RateLimited, RateLimits
from api.settings import Settings
from core.limits import MAX_MESSAGE_LENGTH
from tests.support.api import auth, hook_body, make_settings, post_hook, start
from tests.support.servers import free_port

REDIS = "redis://127.0.0.1:6379/3"
SHOP = "https://shop.example"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'escalations.db'}"


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own in the test Redis; its keys are deleted afterwards."""
    prefix = f"test-rate-limits-{uuid.uuid4().hex[:8]}"
    yield prefix
    server = redis.Redis.from_url(REDIS)
    for key in server.scan_iter(f"{prefix}*"):
        server.delete(key)
    server.close()


def limited_client(settings: Settings, ip: str = "203.0.113.7") -> TestClient:
    return TestClient(create_app(settings), client=(ip, 50000))


def conversations_stored(database_url: str) -> int:
    database = Database(database_url)
    with database.sessions() as session:
        count = session.scalar(select(func.count()).select_from(Conversation)) or 0
    database.engine.dispose()
    return count


def retry_after(response: Any) -> int:
    assert response.status_code == 429, response.text
    assert response.json()["detail"]
    return int(response.headers["Retry-After"])


def test_new_conversations_over_the_ip_limit_get_429_before_any_is_stored(sqlite_url: str) -> None:
    settings = make_settings(sqlite_url, rate_limit_new_conversations="3/minute")
    with limited_client(settings) as client:
        for _ in range(3):
            start(client)
        refused = client.post("/api/conversations", json={"language": "nb"})
        assert 1 <= retry_after(refused) <= 60
    assert conversations_stored(sqlite_url) == 3


def test_each_ip_has_its_own_count_and_an_ipv6_network_counts_as_one(sqlite_url: str) -> None:
    limits = RateLimits(make_settings(sqlite_url, rate_limit_new_conversations="1/minute"))

    async def new_conversation(ip: str) -> bool:
        try:
            await limits.front_door("POST", "/api/conversations", ip)
        except RateLimited:
            return False
        return True

    async def scenario() -> list[bool]:
        await limits.open()
        allowed = [await new_conversation(ip) for ip in (
            "203.0.113.7", "203.0.113.7", "203.0.113.8", "::ffff:203.0.113.8",
            "2001:db8:1:2::4", "2001:db8:1:2:ffff::9", "2001:db8:1:3::4")]
        await limits.close()
        return allowed

    # the second from an address, and from another address of the same /64, is refused;
    # an IPv4 address written as IPv6 is the same address
    assert asyncio.run(scenario()) == [True, False, True, False, True, False, True]


def test_the_limit_lets_a_request_through_again_once_its_window_has_passed(sqlite_url: str) -> None:
    settings = make_settings(sqlite_url, rate_limit_new_conversations="2/second")
    with limited_client(settings) as client:
        start(client)
        start(client)
        assert retry_after(client.post("/api/conversations", json={})) == 1
        # refused requests are not counted: asking again does not push the window on
        deadline = time.monotonic() + 5
        while (response := client.post("/api/conversations", json={})).status_code == 429:
            assert time.monotonic() < deadline, "the window never passed"
            time.sleep(0.05)
        assert response.status_code == 201


def test_messages_are_limited_per_conversation_not_across_conversations(sqlite_url: str) -> None:
    settings = make_settings(sqlite_url, rate_limit_messages="2/minute")
    with limited_client(settings) as client:
        chatty, chatty_token = start(client)
        quiet, quiet_token = start(client)
        url = f"/api/conversations/{chatty}/messages"
        for text in ("hei", "hallo"):
            assert client.post(url, json={"text": text}, headers=auth(chatty_token)).status_code == 200
        assert 1 <= retry_after(client.post(url, json={"text": "er dere der?"},
                                            headers=auth(chatty_token))) <= 60
        other = client.post(f"/api/conversations/{quiet}/messages", json={"text": "hei"},
                            headers=auth(quiet_token))
        assert other.status_code == 200
        history = client.get(url, headers=auth(chatty_token)).json()["messages"]
    assert [m["text"] for m in history if m["sender"] == "customer"] == ["hei", "hallo"]


def test_a_stranger_who_knows_the_conversation_id_cannot_use_up_its_messages(
        sqlite_url: str) -> None:
    settings = make_settings(sqlite_url, rate_limit_messages="2/minute")
    with limited_client(settings) as client:
        conversation, token = start(client)
        url = f"/api/conversations/{conversation}/messages"
        for _ in range(5):
            assert client.post(url, json={"text": "x"}, headers=auth("guess")).status_code == 403
        assert client.post(url, json={"text": "hei"}, headers=auth(token)).status_code == 200


def test_the_ip_limit_covers_token_checks_and_health_not_static_files_or_signed_hooks(
        sqlite_url: str) -> None:
    settings = make_settings(sqlite_url, rate_limit_requests="3/minute")
    with limited_client(settings) as client:
        conversation, token = start(client)                                    # 1
        url = f"/api/conversations/{conversation}/messages"
        assert client.get(url, headers=auth(token)).status_code == 200        # 2
        assert client.get("/health").status_code in (200, 503)                 # 3
        retry_after(client.get(url, headers=auth(token)))
        retry_after(client.get(url, headers=auth("guess")))
        retry_after(client.get("/health"))
        retry_after(client.post("/api/conversations", json={}))
        assert client.get("/widget.js").status_code == 200
        assert post_hook(client, hook_body(conversation)).status_code == 201


def test_a_refused_websocket_gets_the_same_429(sqlite_url: str) -> None:
    settings = make_settings(sqlite_url, rate_limit_requests="1/minute")
    with limited_client(settings) as client:
        client.get("/health")
        with pytest.raises(WebSocketDenialResponse) as refused, \
                client.websocket_connect("/ws/conversations/c_any"):
            pass
        assert 1 <= retry_after(refused.value) <= 60


def test_the_shop_page_can_read_a_429_and_its_retry_after(sqlite_url: str) -> None:
    settings = make_settings(sqlite_url, rate_limit_new_conversations="1/minute")
    with limited_client(settings) as client:
        start(client)
        refused = client.post("/api/conversations", json={}, headers={"Origin": SHOP})
        retry_after(refused)
    assert refused.headers["access-control-allow-origin"] == SHOP
    assert "retry-after" in refused.headers["access-control-expose-headers"].lower()


def test_instances_sharing_redis_share_the_count(sqlite_url: str, redis_prefix: str) -> None:
    settings = make_settings(sqlite_url, rate_limit_storage=REDIS, rate_limit_prefix=redis_prefix,
                             rate_limit_new_conversations="3/minute")
    with limited_client(settings) as one, limited_client(settings) as other:
        start(one)
        start(one)
        start(other)
        retry_after(other.post("/api/conversations", json={}))
        retry_after(one.post("/api/conversations", json={}))
    assert conversations_stored(sqlite_url) == 3


def test_without_redis_each_instance_still_counts_and_says_so_without_the_password(
        sqlite_url: str, caplog: pytest.LogCaptureFixture) -> None:
    nowhere = f"redis://:s3cret-pass@127.0.0.1:{free_port()}/0"  # nothing listens there
    settings = make_settings(sqlite_url, rate_limit_storage=nowhere,
                             rate_limit_new_conversations="2/minute")
    with caplog.at_level(logging.WARNING, logger="api.rate_limits"), \
            limited_client(settings) as client:
        start(client)
        start(client)
        retry_after(client.post("/api/conversations", json={}))
    warnings = [r.getMessage() for r in caplog.records if r.name == "api.rate_limits"]
    assert len(warnings) == 1, warnings  # once per outage, not once per request
    assert "does not answer" in warnings[0] and "s3cret" not in warnings[0]


def test_redis_is_tried_again_after_the_retry_interval(sqlite_url: str,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    now = [1000.0]
    settings = make_settings(sqlite_url, rate_limit_storage=f"redis://127.0.0.1:{free_port()}/0",
                             rate_limit_retry_seconds=30)
    limits = RateLimits(settings, clock=lambda: now[0])

    async def messages(count: int) -> None:
        for _ in range(count):
            await limits.message("c_one")

    async def scenario() -> list[int]:
        await limits.open()
        attempts = []
        with caplog.at_level(logging.WARNING, logger="api.rate_limits"):
            for advance in (0, 29, 2):  # 29 s: still within the interval; 31 s: past it
                now[0] += advance
                await messages(3)
                attempts.append(sum(r.name == "api.rate_limits" for r in caplog.records))
        await limits.close()
        return attempts

    assert asyncio.run(scenario()) == [1, 1, 2]


def test_the_retry_after_is_the_wait_until_the_oldest_request_leaves_the_window(
        sqlite_url: str) -> None:
    limits = RateLimits(make_settings(sqlite_url, rate_limit_messages="2/minute"))

    async def scenario() -> int:
        await limits.open()
        await limits.message("c_one")
        await limits.message("c_one")
        try:
            await limits.message("c_one")
        except RateLimited as limited:
            return limited.retry_after
        finally:
            await limits.close()
        raise AssertionError("the third message in a minute went through")

    assert 59 <= asyncio.run(scenario()) <= 60


@pytest.mark.parametrize("field, value", [
    ("rate_limit_messages", "lots"),
    ("rate_limit_requests", "10 per fortnight"),
    ("rate_limit_storage", "memcached://127.0.0.1:11211"),
    ("max_message_length", MAX_MESSAGE_LENGTH + 1),  # Rasa's channel would refuse them
])
def test_a_limit_that_cannot_hold_stops_the_service_at_start(field: str, value: Any) -> None:
    with pytest.raises(ValidationError, match=field):
        make_settings("sqlite://", **{field: value})
