"""Rate limits at the front door: per client IP before anything reads the database, Rasa or
a token, and per conversation on what its customer sends. Counted with the `limits`
library's moving window, in this process's memory or in Redis shared by every instance
(NORDHEM_RATE_LIMIT_STORAGE). Over a limit: 429 with the seconds to wait in Retry-After.

The client IP is the connection's peer (`request.client.host`; for IPv6 its /64 network).
Behind a reverse proxy that is the proxy, for every customer at once: uvicorn then has to
trust the proxy's X-Forwarded-For, which it does for 127.0.0.1 and ::1 (`python -m api
serve` keeps uvicorn's --proxy-headers on); for a proxy elsewhere set FORWARDED_ALLOW_IPS to
its address.

When Redis does not answer, the limits are not dropped and requests are not refused: each
process counts in its own memory (a warning is logged) and tries Redis again after
NORDHEM_RATE_LIMIT_RETRY_SECONDS. An outage of a cache should neither open the door to a
flood nor close it on customers.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import Optional, cast

import redis.asyncio
from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from api.settings import Settings

logger = logging.getLogger(__name__)
# how long a rate limit storage may take to connect or answer before the process's own
# memory counts instead
REDIS_TIMEOUT_SECONDS = 0.5
# requests that can reach the database, Rasa or a token check without a valid secret first;
# static files, signed hooks (HMAC checked first) and /metrics (token or loopback) are not
# counted
COUNTED_PREFIXES = ("/api/", "/ws/")
COUNTED_PATHS = ("/health",)
NEW_CONVERSATION = ("POST", "/api/conversations")


class RateLimited(Exception):
    """A limit is reached; `retry_after` whole seconds until it lets one more through."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limited for {retry_after} s")
        self.retry_after = retry_after


def parse_limits(value: str) -> list[RateLimitItem]:
    """'20/minute' or '20/minute;200/hour'; empty means no limit."""
    return parse_many(value) if value.strip() else []


def too_many_requests(limited: RateLimited) -> JSONResponse:
    return JSONResponse({"detail": f"too many requests; try again in {limited.retry_after} s"},
                        status_code=429, headers={"Retry-After": str(limited.retry_after)})


def counted(path: str) -> bool:
    return path.startswith(COUNTED_PREFIXES) or path in COUNTED_PATHS


def client_key(host: str) -> str:
    """Who is counted: an IPv4 address, or an IPv6 address's /64 network (one household or
    phone gets a whole /64, and could otherwise count afresh from each of its addresses)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # not an address (a test client, a Unix socket)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class RateLimits:
    """The service's limits and where they are counted. `open` in the event loop that will
    use it (the app's lifespan), `close` at its end."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_ip = parse_limits(settings.rate_limit_requests)
        self.new_conversations = parse_limits(settings.rate_limit_new_conversations)
        self.messages = parse_limits(settings.rate_limit_messages)
        self.url = settings.rate_limit_storage
        self.prefix = settings.rate_limit_prefix
        self.retry_seconds = settings.rate_limit_retry_seconds
        self.clock = clock
        self._pool: Optional[redis.asyncio.ConnectionPool] = None
        self._shared: Optional[MovingWindowRateLimiter] = None
        self._local: Optional[MovingWindowRateLimiter] = None
        self._shared_down_until: Optional[float] = None

    async def open(self) -> None:
        self._local = MovingWindowRateLimiter(MemoryStorage())
        if self.url.startswith("memory://"):
            return
        # our own pool, so that its connections have timeouts and `close` can end them
        self._pool = redis.asyncio.ConnectionPool.from_url(
            self.url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS)
        # connection_pool is a documented option; the signature's types leave it out
        storage = storage_from_string(f"async+{self.url}", implementation="redispy",
                                      key_prefix=self.prefix,
                                      connection_pool=self._pool)  # type: ignore[arg-type]
        self._shared = MovingWindowRateLimiter(cast(Storage, storage))

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.disconnect()

    async def front_door(self, method: str, path: str, client_ip: str) -> None:
        """Count a request from this IP (RateLimited when one of its limits is reached)."""
        if not counted(path):
            return
        client = client_key(client_ip)
        await self._hit(self.per_ip, "ip", client)
        if (method, path.rstrip("/")) == NEW_CONVERSATION:
            await self._hit(self.new_conversations, "new-conversation", client)

    async def message(self, conversation_id: str) -> None:
        """Count a message the conversation's customer sends."""
        await self._hit(self.messages, "conversation", conversation_id)

    async def _hit(self, items: Sequence[RateLimitItem], *key: str) -> None:
        for item in items:
            limiter = self._limiter()
            try:
                if await limiter.hit(item, *key):
                    continue
                stats = await limiter.get_window_stats(item, *key)
            except (StorageError, OSError, redis.RedisError):
                self._storage_failed()
                limiter = self._limiter()
                if await limiter.hit(item, *key):
                    continue
                stats = await limiter.get_window_stats(item, *key)
            raise RateLimited(max(1, math.ceil(stats.reset_time - time.time())))

    def _limiter(self) -> MovingWindowRateLimiter:
        if self._local is None:
            raise RuntimeError("RateLimits.open() was not awaited")
        if self._shared is None:
            return self._local
        if self._shared_down_until is not None:
            if self.clock() < self._shared_down_until:
                return self._local
            self._shared_down_until = None  # time to try the shared storage again
        return self._shared

    def _storage_failed(self) -> None:
        logger.warning("rate limit storage %s does not answer: counting in this process's "
                       "memory for %g s", self._safe_url(), self.retry_seconds)
        self._shared_down_until = self.clock() + self.retry_seconds

    def _safe_url(self) -> str:
        """The storage URL without a password (never in logs)."""
        scheme, _, rest = self.url.partition("://")
        return f"{scheme}://{rest.rpartition('@')[2]}"


class RateLimitMiddleware:
    """Pure ASGI middleware: per-IP limits before the request is routed, parsed or
    authenticated. A refused WebSocket gets the same 429 where the server can send one."""

    def __init__(self, app: ASGIApp, limits: RateLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        try:
            await self.limits.front_door(scope.get("method", "GET"), scope["path"],
                                         client[0] if client else "unknown")
        except RateLimited as limited:
            if scope["type"] == "http" or "websocket.http.response" in scope.get("extensions", {}):
                await too_many_requests(limited)(scope, receive, send)
            else:
                await send({"type": "websocket.close", "code": 1013})  # try again later
            return
        await self.app(scope, receive, send)
