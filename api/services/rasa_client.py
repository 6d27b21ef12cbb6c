"""Talks to Rasa's REST channel and HTTP API with one pooled HTTP client.

With several Rasa servers (NORDHEM_RASA_URLS) each conversation goes to one of them by
rendezvous hashing (`instance_order`): the same conversation meets the same server, and
its caches, as long as that server is up, and adding or removing a server moves only the
conversations that hashed to it. The servers share the tracker store and a Redis lock
store, so any of them can take any conversation. When a server cannot be reached, the
message goes to the next one in the conversation's order and the dead one is skipped
for a while (`down_seconds`).

Only a request that Rasa cannot have handled is sent again elsewhere: no connection, or a
connection closed before any answer (the server died). A slow answer (read timeout) or an
error status is not: the server may be working on it, and sending it twice would make the
bot answer twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Optional, Union

import httpx

from core.signing import rasa_admin_token

logger = logging.getLogger(__name__)
# no connection: the request certainly did not reach Rasa, and the server is down
UNREACHABLE = (httpx.ConnectError, httpx.ConnectTimeout)
# the connection closed before any answer: most likely the server died, or a kept-alive
# connection was closed by it at that moment. Sent again elsewhere, but the server is not
# marked down for it (the next request finds out). A reset (ReadError) means the server died
# with the request still unread in its socket: it cannot have handled it. A plain close
# (RemoteProtocolError) may come after Rasa handled the message and before it answered: then
# it is handled twice, and the service still stores one answer.
DROPPED = (httpx.RemoteProtocolError, httpx.ReadError)
# a server that does not accept a connection within this is taken for down
CONNECT_SECONDS = 1.5


class RasaUnavailable(Exception):
    """Rasa did not answer; the customer's message is kept and the caller says so."""


def instance_order(conversation_id: str, urls: Sequence[str]) -> list[str]:
    """The Rasa servers in the order this conversation tries them (rendezvous hashing)."""
    def weight(url: str) -> bytes:
        return hashlib.sha256(f"{url}\n{conversation_id}".encode()).digest()
    return sorted(urls, key=weight, reverse=True)


class RasaClient:
    """Rasa's REST channel is open to local callers; its HTTP API (trackers, status) needs
    a JWT signed with `jwt_secret` (Rasa's `--jwt-secret`), sent in the Authorization header."""

    def __init__(self, base_urls: Union[str, Sequence[str]], timeout: float,
                 jwt_secret: str = "", down_seconds: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        urls = [base_urls] if isinstance(base_urls, str) else list(base_urls)
        self.base_urls = [url.rstrip("/") for url in urls if url.strip()]
        if not self.base_urls:
            raise ValueError("at least one Rasa URL is needed")
        self.jwt_secret = jwt_secret
        self.down_seconds = down_seconds
        self.clock = clock
        self._down_until: dict[str, float] = {}
        # idle connections are dropped before Rasa's web server (Sanic, 5 s) would drop them
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=CONNECT_SECONDS),
                                      limits=httpx.Limits(max_keepalive_connections=50,
                                                          keepalive_expiry=2))

    @property
    def base_url(self) -> str:
        """The first server (the only one without NORDHEM_RASA_URLS)."""
        return self.base_urls[0]

    def _api_headers(self) -> dict[str, str]:
        if not self.jwt_secret:
            return {}
        return {"Authorization": f"Bearer {rasa_admin_token(self.jwt_secret, time.time())}"}

    def order_for(self, conversation_id: str) -> list[str]:
        """The conversation's servers, those believed up first (all of them are tried)."""
        now = self.clock()
        order = instance_order(conversation_id, self.base_urls)
        return ([url for url in order if self._down_until.get(url, 0) <= now]
                + [url for url in order if self._down_until.get(url, 0) > now])

    async def _post(self, conversation_id: str, path: str, **request: Any) -> httpx.Response:
        """POST to the conversation's server, or to the next when one cannot be reached."""
        last: Optional[Exception] = None
        for url in self.order_for(conversation_id):
            try:
                response = await self.http.post(f"{url}{path}", **request)
            except UNREACHABLE + DROPPED as error:
                if isinstance(error, UNREACHABLE):
                    self._down_until[url] = self.clock() + self.down_seconds
                logger.warning("Rasa at %s did not take the message (%s); trying the next",
                               url, type(error).__name__)
                last = error
                continue
            self._down_until.pop(url, None)
            return response
        raise RasaUnavailable(f"no Rasa server answered: {last}")

    async def send(self, conversation_id: str, text: str,
                   metadata: dict[str, Any]) -> list[dict[str, Any]]:
        """The bot's replies to one customer message."""
        try:
            response = await self._post(
                conversation_id, "/webhooks/rest/webhook",
                json={"sender": conversation_id, "message": text, "metadata": metadata})
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise RasaUnavailable(str(error)) from error

    async def set_slots(self, conversation_id: str, slots: dict[str, Any]) -> None:
        """Append slot events to the conversation's tracker (e.g. after an agent)."""
        events = [{"event": "slot", "name": name, "value": value} for name, value in slots.items()]
        try:
            response = await self._post(
                conversation_id, f"/conversations/{conversation_id}/tracker/events",
                json=events, params={"include_events": "NONE"}, headers=self._api_headers())
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise RasaUnavailable(str(error)) from error

    async def ready(self, url: Optional[str] = None) -> bool:
        """`url` answers 200; without one: at least one Rasa server does (the service can
        answer customers while another is restarting). All are asked at once."""
        targets = [url] if url else [f"{base}/status" for base in self.base_urls]
        return any(await asyncio.gather(*(self._answers(target) for target in targets)))

    async def _answers(self, url: str) -> bool:
        try:
            response = await self.http.get(url, timeout=2, headers=self._api_headers())
            return response.status_code == 200
        except httpx.HTTPError:
            return False

    async def close(self) -> None:
        await self.http.aclose()
