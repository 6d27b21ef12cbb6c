"""Talks to Rasa's REST channel and HTTP API with one pooled HTTP client."""

from __future__ import annotations

import time
from typing import Any, Optional

import httpx

from core.signing import rasa_admin_token


class RasaUnavailable(Exception):
    """Rasa did not answer; the customer's message is kept and the caller says so."""


class RasaClient:
    """Rasa's REST channel is open to local callers; its HTTP API (trackers, status) needs
    a JWT signed with `jwt_secret` (Rasa's `--jwt-secret`), sent in the Authorization header."""

    def __init__(self, base_url: str, timeout: float, jwt_secret: str = "") -> None:
        self.base_url = base_url.rstrip("/")
        self.jwt_secret = jwt_secret
        self.http = httpx.AsyncClient(timeout=timeout,
                                      limits=httpx.Limits(max_keepalive_connections=50))

    def _api_headers(self) -> dict[str, str]:
        if not self.jwt_secret:
            return {}
        return {"Authorization": f"Bearer {rasa_admin_token(self.jwt_secret, time.time())}"}

    async def send(self, conversation_id: str, text: str,
                   metadata: dict[str, Any]) -> list[dict[str, Any]]:
        """The bot's replies to one customer message."""
        try:
            response = await self.http.post(
                f"{self.base_url}/webhooks/rest/webhook",
                json={"sender": conversation_id, "message": text, "metadata": metadata},
            )
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise RasaUnavailable(str(error)) from error

    async def set_slots(self, conversation_id: str, slots: dict[str, Any]) -> None:
        """Append slot events to the conversation's tracker (e.g. after an agent)."""
        events = [{"event": "slot", "name": name, "value": value} for name, value in slots.items()]
        try:
            response = await self.http.post(
                f"{self.base_url}/conversations/{conversation_id}/tracker/events",
                json=events, params={"include_events": "NONE"}, headers=self._api_headers())
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise RasaUnavailable(str(error)) from error

    async def ready(self, url: Optional[str] = None) -> bool:
        try:
            response = await self.http.get(url or f"{self.base_url}/status", timeout=2,
                                           headers=self._api_headers())
            return response.status_code == 200
        except httpx.HTTPError:
            return False

    async def close(self) -> None:
        await self.http.aclose()
