"""Helpdesk webhooks from a persistent outbox: written in the same transaction as the
change they report, delivered by a background job with retries and back-off, so a
helpdesk that is down loses nothing. Each event is tried and recorded on its own, so a
failure never re-sends an event already delivered, and an event that cannot be sent (its
payload, say) is parked after its attempts instead of blocking the others."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from typing import Any, Optional

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api import metrics, state
from api.events import (
    EscalationClaimed,
    EscalationCreated,
    EscalationResolved,
    Event,
    MessageCreated,
    Writer,
)
from api.models import OutboxEvent, utcnow
from api.security import sign
from core.vocabulary import OutboxStatus

MAX_BACKOFF_SECONDS = 600
logger = logging.getLogger(__name__)


def webhook(event: Event) -> Optional[tuple[str, dict[str, Any]]]:
    """The webhook type and payload a helpdesk gets for an event, if any."""
    if isinstance(event, EscalationCreated):
        return "escalation.created", {**event.escalation.model_dump(mode="json"),
                                      "details": event.details, "transcript": event.transcript}
    if isinstance(event, EscalationClaimed):
        return "escalation.claimed", event.escalation.model_dump(mode="json")
    if isinstance(event, EscalationResolved):
        return "escalation.resolved", {**event.escalation.model_dump(mode="json"),
                                       "return_to_bot": event.return_to_bot}
    # what the customer and the agents write; the bot's side is in the escalation's transcript
    if isinstance(event, MessageCreated) and event.reference is not None \
            and event.message.sender in ("customer", "agent"):
        return "message.created", {"reference": event.reference,
                                   "message": event.message.model_dump(mode="json")}
    return None


def enqueue(session: Session, urls: list[str], event_type: str, payload: dict[str, Any]) -> None:
    """Add the event for every configured helpdesk URL (committed with the caller's change)."""
    for url in urls:
        session.add(OutboxEvent(url=url, type=event_type, payload=payload))


def writer(urls: list[str]) -> Writer:
    """The events' writer of outbox rows, in the transaction of the change they report."""
    def write(session: Session, event: Event) -> None:
        found = webhook(event)
        if found is not None:
            enqueue(session, urls, *found)
    return write


def backoff_seconds(attempts: int) -> int:
    return min(MAX_BACKOFF_SECONDS, 2 ** attempts)


def _due_ids(sessions: sessionmaker[Session], batch: int) -> list[int]:
    with sessions() as session:
        return list(session.scalars(
            select(OutboxEvent.id).where(OutboxEvent.status == OutboxStatus.PENDING,
                                         OutboxEvent.next_attempt_at <= utcnow())
            .order_by(OutboxEvent.id).limit(batch)))


def _signed_body(item: OutboxEvent, secret: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"id": item.id, "type": item.type, "data": item.payload},
                      ensure_ascii=False, default=str).encode()  # may fail: a bad payload
    return body, {"Content-Type": "application/json", "X-Signature": sign(body, secret),
                  "X-Event-Type": item.type, "X-Event-Id": str(item.id)}


def _record(sessions: sessionmaker[Session], event_id: int, error: Optional[str],
            max_attempts: int) -> None:
    """The outcome of one attempt, committed on its own: delivered, retried later, or parked."""
    with sessions() as session:
        item = session.get(OutboxEvent, event_id)
        if item is None or item.status != OutboxStatus.PENDING:
            return
        if error is None:
            state.move_outbox(item, OutboxStatus.DELIVERED)
            item.last_error = None
        else:
            item.attempts += 1
            item.last_error = error[:500]
            if item.attempts >= max_attempts:
                state.move_outbox(item, OutboxStatus.FAILED)  # parked: an operator looks at it
                metrics.OUTBOX_PARKED.inc()
                logger.error("outbox event %s parked after %s attempts: %s", event_id,
                             item.attempts, item.last_error)
            else:
                item.next_attempt_at = utcnow() + dt.timedelta(seconds=backoff_seconds(item.attempts))
        session.commit()


async def deliver_one(sessions: sessionmaker[Session], http: httpx.AsyncClient, secret: str,
                      max_attempts: int, event_id: int) -> bool:
    """One event, on its own: whatever goes wrong with it (the helpdesk, the network, its
    own payload) counts one attempt of this event and touches no other."""
    def load() -> Optional[tuple[bytes, dict[str, str], str]]:
        with sessions() as session:
            item = session.get(OutboxEvent, event_id)
            if item is None or item.status != OutboxStatus.PENDING:
                return None
            return (*_signed_body(item, secret), item.url)

    try:
        loaded = await asyncio.to_thread(load)
        if loaded is None:
            return False
        body, headers, url = loaded
        response = await http.post(url, content=body, headers=headers)
        response.raise_for_status()
    except Exception as error:  # noqa: BLE001 - any failure is this event's failed attempt
        await asyncio.to_thread(_record, sessions, event_id, f"{type(error).__name__}: {error}",
                                max_attempts)
        return False
    await asyncio.to_thread(_record, sessions, event_id, None, max_attempts)
    return True


async def deliver_due(sessions: sessionmaker[Session], http: httpx.AsyncClient, secret: str,
                      max_attempts: int, batch: int = 50) -> int:
    """Try every due event once, each on its own; returns how many were delivered."""
    delivered = 0
    for event_id in await asyncio.to_thread(_due_ids, sessions, batch):
        delivered += await deliver_one(sessions, http, secret, max_attempts, event_id)
    return delivered


async def deliver_forever(sessions: sessionmaker[Session], secret: str, max_attempts: int,
                          interval: float = 1.0) -> None:
    """The background job named after what it does."""
    async with httpx.AsyncClient(timeout=5) as http:
        while True:
            try:
                await deliver_due(sessions, http, secret, max_attempts)
            except Exception:  # noqa: BLE001 - the job must outlive one bad round
                logger.exception("outbox delivery round failed")
            await asyncio.sleep(interval)
