"""The one client that talks to the escalation service (`POST /hooks/escalations`).

The service's base URL is `escalation_service.url` in bot/endpoints.yml (or the
ESCALATION_URL environment variable); the shared secret for the HMAC-SHA256 signature
of the body (`X-Signature` header) is ESCALATION_HOOK_SECRET. When the service is not
configured, does not answer within the timeout, or answers with an error, `escalate`
returns None and the hand-off falls back to an honest message without queue figures.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional, Text

import aiohttp
import yaml

from actions.http_session import LoopSession
from core.signing import sign

ENDPOINTS_FILE = Path(__file__).resolve().parents[1] / "bot" / "endpoints.yml"
TIMEOUT_SECONDS = 2.0

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EscalationReceipt:
    """What the service answers about a new escalation."""

    reference: Text
    position: Optional[int]
    # the wait's credible range in minutes; None when the service has no basis for one
    eta_minutes: Optional[int]
    agents_online: Optional[int]
    open_now: Optional[bool]
    next_open: Optional[Text]
    eta_max_minutes: Optional[int] = None
    # agents free to take it now: 0 is "nobody right now"; None when the service cannot tell
    agents_available: Optional[int] = None
    # the colleague who has it already (the service assigned it at once), if any
    agent_name: Optional[Text] = None


def configured_base_url(endpoints_file: Path = ENDPOINTS_FILE) -> Optional[Text]:
    """ESCALATION_URL, else escalation_service.url in endpoints.yml, else None."""
    if os.environ.get("ESCALATION_URL"):
        return os.environ["ESCALATION_URL"].rstrip("/")
    try:
        endpoints = yaml.safe_load(endpoints_file.read_text(encoding="utf-8")) or {}
    except OSError:
        return None
    url = (endpoints.get("escalation_service") or {}).get("url")
    return str(url).rstrip("/") if url else None


class EscalationClient:
    """Creates escalations; never raises on network trouble."""

    def __init__(
        self,
        base_url: Optional[Text] = None,
        secret: Optional[Text] = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.base_url = base_url if base_url is not None else configured_base_url()
        self.secret = secret if secret is not None else os.environ.get("ESCALATION_HOOK_SECRET", "")
        self.timeout = timeout
        self._http = LoopSession(timeout)

    async def escalate(self, escalation: Dict[Text, Any]) -> Optional[EscalationReceipt]:
        """POST the escalation; the service's receipt, or None when it cannot be had.

        Asynchronous, so that a slow service holds up only this hand-off, never the other
        conversations' actions on the action server's event loop.
        """
        if not self.base_url:
            return None
        body = json.dumps(escalation, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", "X-Signature": sign(body, self.secret)}
        try:
            http = await self._http.get()
            async with http.post(f"{self.base_url}/hooks/escalations", data=body,
                                 headers=headers) as response:
                response.raise_for_status()
                answer = json.loads(await response.read())
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as error:
            logger.warning("escalation service did not answer: %s", error)
            return None
        receipt = parse_receipt(answer)
        if receipt is None:
            logger.warning("escalation service answered without a reference: %r", answer)
        return receipt


def parse_receipt(answer: Any) -> Optional[EscalationReceipt]:
    """The receipt in the service's answer, or None when it has no reference."""
    if not isinstance(answer, dict) or not answer.get("reference"):
        return None
    return EscalationReceipt(
        reference=str(answer["reference"]),
        position=answer.get("position"),
        eta_minutes=answer.get("eta_minutes"),
        agents_online=answer.get("agents_online"),
        open_now=answer.get("open_now"),
        next_open=answer.get("next_open"),
        eta_max_minutes=answer.get("eta_max_minutes"),
        agents_available=answer.get("agents_available"),
        agent_name=answer.get("agent_name"),
    )
