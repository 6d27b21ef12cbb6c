"""Helpdesk webhooks from a persistent outbox: written in the same transaction as the
change they report, delivered by a background job with retries and back-off, so a
helpdesk that is down loses nothing. Each event is tried and recorded on its own, so a
failure never re-sends an event already delivered. Each helpdesk gets its events in the
order they happened: while one waits for its retry, the later ones wait behind it. An
event that can never be sent (its payload) is parked at once, one the helpdesk keeps
refusing after its attempts, so neither blocks the others for good."""

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
    ConversationErased,
    CsatSubmitted,
    EscalationClaimed,
    EscalationCreated,
    EscalationResolved,
    Event,
    MessageCreated,
    Writer,
)
from api.models import OutboxEvent, utcnow
from api.security import sign
from api.services.job_lock import JobLock
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
    # a helpdesk that got the escalations erases its copies; only the references go out
    if isinstance(event, ConversationErased) and event.references:
        return "conversation.erased", {"references": list(event.references)}
    if isinstance(event, CsatSubmitted):
        return "csat.submitted", event.rating
    return None


def owner(event: Event) -> Optional[str]:
    """The conversation whose data an event's webhook holds (erased with it), if any."""
    if isinstance(event, (EscalationCreated, EscalationClaimed, EscalationResolved)):
        return event.escalation.conversation_id
    if isinstance(event, (MessageCreated, CsatSubmitted)):
        return event.conversation_id
    return None


def enqueue(session: Session, urls: list[str], event_type: str, payload: dict[str, Any],
            conversation_id: Optional[str] = None) -> None:
    """Add the event for every configured helpdesk URL (committed with the caller's change)."""
    for url in urls:
        session.add(OutboxEvent(url=url, type=event_type, payload=payload,
                                conversation_id=conversation_id))


def writer(urls: list[str]) -> Writer:
    """The events' writer of outbox rows, in the transaction of the change they report."""
    def write(session: Session, event: Event) -> None:
        found = webhook(event)
        if found is not None:
            enqueue(session, urls, *found, conversation_id=owner(event))
    return write


def backoff_seconds(attempts: int) -> int:
    return min(MAX_BACKOFF_SECONDS, 2 ** attempts)


def _due(sessions: sessionmaker[Session], batch: int) -> list[tuple[int, str]]:
    """(id, url) of the events to try now: for each helpdesk URL its pending events, oldest
    first, if the oldest is due. A later event never overtakes one that waits for its retry,
    so each helpdesk receives the events in the order they happened."""
    due: list[tuple[int, str]] = []
    with sessions() as session:
        pending = OutboxEvent.status == OutboxStatus.PENDING
        # per URL: a helpdesk with a long backlog must not keep the others' events unread
        for url in session.scalars(select(OutboxEvent.url).where(pending).distinct()).all():
            rows = session.execute(
                select(OutboxEvent.id, OutboxEvent.next_attempt_at <= utcnow())
                .where(pending, OutboxEvent.url == url)
                .order_by(OutboxEvent.id).limit(batch)).all()
            for event_id, is_due in rows:
                if not is_due:
                    break
                due.append((event_id, url))
    return sorted(due)


def _signed_body(item: OutboxEvent, secret: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"id": item.id, "type": item.type, "data": item.payload},
                      ensure_ascii=False, default=str).encode()  # may fail: a bad payload
    return body, {"Content-Type": "application/json", "X-Signature": sign(body, secret),
                  "X-Event-Type": item.type, "X-Event-Id": str(item.id)}


def _record(sessions: sessionmaker[Session], event_id: int, error: Optional[str],
            max_attempts: int, unsendable: bool = False) -> Optional[OutboxStatus]:
    """The outcome of one attempt, committed on its own: delivered, retried later, or parked
    (after its attempts, or at once when it can never be sent); the event's status after it."""
    with sessions() as session:
        item = session.get(OutboxEvent, event_id)
        if item is None or item.status != OutboxStatus.PENDING:
            return None
        if error is None:
            state.move_outbox(item, OutboxStatus.DELIVERED)
            item.last_error = None
        else:
            item.attempts += 1
            item.last_error = error[:500]
            if unsendable or item.attempts >= max_attempts:
                state.move_outbox(item, OutboxStatus.FAILED)  # parked: an operator looks at it
                metrics.OUTBOX_PARKED.inc()
                logger.error("outbox event %s parked after %s attempts: %s", event_id,
                             item.attempts, item.last_error)
            else:
                item.next_attempt_at = utcnow() + dt.timedelta(seconds=backoff_seconds(item.attempts))
        session.commit()
        return item.status


class Unsendable(Exception):
    """The event's payload cannot be written as a request (say, text that is not Unicode),
    or the helpdesk refused this payload itself: retrying would hold up every later event."""


# answers that refuse the payload, not the request: trying again cannot help
# (401, 403, 404 are kept for retries: they mean a URL or secret to fix, not this event)
REJECTED = frozenset({400, 413, 415, 422})


async def deliver_one(sessions: sessionmaker[Session], http: httpx.AsyncClient, secret: str,
                      max_attempts: int, event_id: int) -> Optional[OutboxStatus]:
    """One event, on its own: whatever goes wrong with it (the helpdesk, the network, its
    own payload) counts one attempt of this event and touches no other. Its status after
    the attempt: delivered, pending (to retry) or parked; None when it was not pending."""
    def load() -> Optional[tuple[bytes, dict[str, str], str]]:
        with sessions() as session:
            item = session.get(OutboxEvent, event_id)
            if item is None or item.status != OutboxStatus.PENDING:
                return None
            try:
                return (*_signed_body(item, secret), item.url)
            except (TypeError, ValueError) as error:
                raise Unsendable(f"{type(error).__name__}: {error}") from error

    try:
        loaded = await asyncio.to_thread(load)
        if loaded is None:
            return None
        body, headers, url = loaded
        response = await http.post(url, content=body, headers=headers)
        if response.status_code in REJECTED:
            raise Unsendable(f"the helpdesk refused it: {response.status_code}")
        response.raise_for_status()
    except Exception as error:  # noqa: BLE001 - any failure is this event's failed attempt
        return await asyncio.to_thread(_record, sessions, event_id,
                                       f"{type(error).__name__}: {error}", max_attempts,
                                       isinstance(error, Unsendable))
    return await asyncio.to_thread(_record, sessions, event_id, None, max_attempts)


async def deliver_due(sessions: sessionmaker[Session], http: httpx.AsyncClient, secret: str,
                      max_attempts: int, batch: int = 50) -> int:
    """Try the due events once each, in order; returns how many were delivered. After a
    failed attempt the helpdesk's later events wait behind that one, to keep their order."""
    delivered = 0
    failing: set[str] = set()
    for event_id, url in await asyncio.to_thread(_due, sessions, batch):
        if url in failing:
            continue
        outcome = await deliver_one(sessions, http, secret, max_attempts, event_id)
        delivered += outcome == OutboxStatus.DELIVERED
        if outcome == OutboxStatus.PENDING:
            failing.add(url)
    return delivered


async def deliver_forever(sessions: sessionmaker[Session], secret: str, max_attempts: int,
                          interval: float = 1.0, lock: Optional[JobLock] = None) -> None:
    """The background job named after what it does; with `lock`, a round runs only in the
    process that holds it (api/services/job_lock.py)."""
    async with httpx.AsyncClient(timeout=5) as http:
        while True:
            try:
                if lock is None or await asyncio.to_thread(lock.acquire):
                    try:
                        await deliver_due(sessions, http, secret, max_attempts)
                    finally:
                        if lock is not None:
                            await asyncio.to_thread(lock.release)
            except Exception:  # noqa: BLE001 - the job must outlive one bad round
                logger.exception("outbox delivery round failed")
            await asyncio.sleep(interval)
