"""Conversations are not kept for ever: the purge.

- Retention: a conversation without activity (a message, a hand-off, a claim, a resolve)
  for NORDHEM_RETENTION_DAYS is erased everywhere (api/services/erasure.py), with a record;
  so is a conversation only Rasa's tracker store holds (the REST channel reached directly)
  whose latest event is that old.
- Empty conversations: one in which the customer wrote nothing (a widget that was only
  opened, or a script creating conversations) is deleted NORDHEM_EMPTY_CONVERSATION_MINUTES
  after it started. It holds nothing personal and never reached Rasa, so no record is kept.

The service runs the purge every NORDHEM_PURGE_INTERVAL_SECONDS (`purge_forever`, started
in api/main.py); `python -m api purge` runs it once, for cron. Time is passed in (`now`),
so tests set it instead of waiting.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import and_, delete, exists, or_, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from api.models import Conversation, Escalation, Message
from api.services.erasure import Requester, TrackerStore, erase
from api.services.hub import Hub
from api.services.job_lock import JobLock

logger = logging.getLogger(__name__)
BATCH = 500  # conversations erased per round at most, so that a round stays short


@dataclass(frozen=True)
class Purged:
    """What one purge round removed."""

    erased: int = 0  # conversations idle beyond the retention, erased everywhere
    empty: int = 0   # empty conversations deleted

    def __add__(self, other: Purged) -> Purged:
        return Purged(self.erased + other.erased, self.empty + other.empty)


def idle_conversations(session: Session, before: dt.datetime, limit: int) -> list[str]:
    """Conversations of the service with no activity since `before`."""
    recent_message = exists().where(Message.conversation_id == Conversation.id,
                                    Message.created_at >= before)
    recent_escalation = exists().where(Escalation.conversation_id == Conversation.id, or_(
        Escalation.created_at >= before, Escalation.claimed_at >= before,
        Escalation.resolved_at >= before))
    return list(session.scalars(select(Conversation.id)
                                .where(Conversation.created_at < before, ~recent_message,
                                       ~recent_escalation)
                                .order_by(Conversation.created_at).limit(limit)))


def idle_tracker_only(session: Session, tracker: TrackerStore, before: dt.datetime,
                      limit: int) -> list[str]:
    """Conversations only Rasa's tracker store holds, idle since `before`. One the service
    also holds is the service's to judge: its activity there counts."""
    senders = tracker.idle_senders(before, limit)
    known = set(session.scalars(select(Conversation.id).where(Conversation.id.in_(senders))))
    return [sender for sender in senders if sender not in known]


def delete_empty(session: Session, before: dt.datetime) -> int:
    """Delete the conversations started before `before` in which the customer wrote nothing
    and that were never handed off; how many."""
    # an alias: inside the DELETE of messages below, `Message` would mean the deleted row
    written = aliased(Message)
    empty = and_(Conversation.created_at < before,
                 ~exists().where(written.conversation_id == Conversation.id,
                                 written.sender == "customer"),
                 ~exists().where(Escalation.conversation_id == Conversation.id))
    empty_ids = select(Conversation.id).where(empty)
    session.execute(delete(Message).where(Message.conversation_id.in_(empty_ids)))
    # the conditions again: a customer who wrote meanwhile keeps the conversation
    deleted = session.execute(delete(Conversation).where(empty))
    session.commit()
    return int(getattr(deleted, "rowcount", 0) or 0)


def purge(sessions: sessionmaker[Session], tracker: TrackerStore, now: dt.datetime,
          retention_days: int, empty_minutes: int, limit: int = BATCH) -> Purged:
    """One round: erase up to `limit` conversations idle for `retention_days` (each on its
    own: one that fails is logged and tried again next round), delete empty ones."""
    before = now - dt.timedelta(days=retention_days)
    with sessions() as session:
        idle = idle_conversations(session, before, limit)
        idle += idle_tracker_only(session, tracker, before, limit - len(idle)) \
            if len(idle) < limit else []
    erased = 0
    for conversation_id in idle:
        try:
            with sessions() as session:
                erased += erase(session, conversation_id, tracker, Requester.RETENTION,
                                now) is not None
        except Exception:  # noqa: BLE001 - one conversation must not stop the others
            logger.exception("retention could not erase a conversation; next round retries")
    with sessions() as session:
        empty = delete_empty(session, now - dt.timedelta(minutes=empty_minutes))
    return Purged(erased, empty)


def purge_all(sessions: sessionmaker[Session], tracker: TrackerStore, now: dt.datetime,
              retention_days: int, empty_minutes: int, limit: int = BATCH) -> Purged:
    """Rounds until nothing more is due (the command line's purge)."""
    total = Purged()
    while True:
        purged = purge(sessions, tracker, now, retention_days, empty_minutes, limit)
        total += purged
        if purged.erased < limit:
            return total


async def purge_forever(hub: Hub, interval: float) -> None:
    """The background job named after what it does: every `interval` seconds, one round at
    the hub's clock's time."""
    tracker = TrackerStore(hub.settings.tracker_store_url)
    lock = JobLock(hub.database.engine, "purge")
    try:
        while True:
            await asyncio.sleep(interval)
            try:
                if not await asyncio.to_thread(lock.acquire):
                    continue  # another service process runs this round
                try:
                    purged = await asyncio.to_thread(
                        purge, hub.database.sessions, tracker, hub.clock(),
                        hub.settings.retention_days, hub.settings.empty_conversation_minutes)
                finally:
                    await asyncio.to_thread(lock.release)
                if purged.erased or purged.empty:
                    logger.info("purge: erased %s idle conversations, deleted %s empty ones",
                                purged.erased, purged.empty)
            except Exception:  # noqa: BLE001 - the job must outlive one bad round
                logger.exception("purge round failed")
    finally:
        tracker.close()
