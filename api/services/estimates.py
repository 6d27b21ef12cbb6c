"""Queue order and position in SQL, one queue per language; the wait from the place and
the rate at which the queue was actually served lately, with a floor and a range, and none
without a basis; opening hours per country with public holidays."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from api.models import Escalation
from core import opening_hours
from core.vocabulary import EscalationStatus, Priority

# an unknown priority (none is accepted today) waits behind every known one
UNKNOWN_RANK = len(Priority)


def rank_of(priority: str) -> int:
    try:
        return Priority(priority).rank
    except ValueError:
        return UNKNOWN_RANK


def priority_rank() -> ColumnElement[int]:
    """Priority.rank computed by the database, so the queue is sorted in SQL."""
    return case({p.value: p.rank for p in Priority}, value=Escalation.priority,
                else_=UNKNOWN_RANK)


def queue_order() -> tuple[ColumnElement[int], InstrumentedAttribute[dt.datetime],
                         InstrumentedAttribute[int]]:
    """Highest priority first, then oldest first (id breaks ties of the same instant)."""
    return (priority_rank(), Escalation.created_at, Escalation.id)


def queued(session: Session, languages: Optional[Iterable[str]] = None) -> list[Escalation]:
    """The waiting escalations in queue order (of these languages only, if given)."""
    query = select(Escalation).where(Escalation.status == EscalationStatus.QUEUED)
    if languages is not None:
        query = query.where(Escalation.language.in_(list(languages)))
    return list(session.scalars(query.order_by(*queue_order())))


def places(session: Session) -> list[tuple[int, Escalation]]:
    """Every waiting escalation with its place in its own language's queue."""
    counted: dict[str, int] = defaultdict(int)
    result = []
    for escalation in queued(session):
        counted[escalation.language] += 1
        result.append((counted[escalation.language], escalation))
    return result


def position(session: Session, escalation: Escalation) -> Optional[int]:
    """1 for the next to be taken in the escalation's language queue; None when it is not
    waiting. Counted in SQL: the queued escalations of its language that sort before it."""
    if escalation.status != EscalationStatus.QUEUED:
        return None
    rank, created = rank_of(escalation.priority), escalation.created_at
    before = or_(priority_rank() < rank,
                 and_(priority_rank() == rank,
                      or_(Escalation.created_at < created,
                          and_(Escalation.created_at == created, Escalation.id < escalation.id))))
    ahead = session.scalar(select(func.count()).select_from(Escalation)
                           .where(Escalation.status == EscalationStatus.QUEUED,
                                  Escalation.language == escalation.language, before)) or 0
    return ahead + 1


# a few escalations taken within a minute say little about the rate of an hour
MIN_SPAN_MINUTES = 10.0


@dataclass(frozen=True)
class Wait:
    """A credible range of minutes until a person takes the conversation."""

    low: int
    high: int


def served_per_minute(session: Session, now: dt.datetime, window_minutes: int,
                      min_served: int) -> Optional[float]:
    """How fast the queue was actually served lately: escalations taken by a person per
    minute, from the first taken in the window until now (at least `MIN_SPAN_MINUTES`), or
    None when too few were taken to tell (no basis). How soon they were resolved does not
    matter: a conversation closed in seconds was still served once."""
    since = now - dt.timedelta(minutes=window_minutes)
    served, first = session.execute(
        select(func.count(), func.min(Escalation.claimed_at))
        .where(Escalation.claimed_at.is_not(None), Escalation.claimed_at >= since,
               Escalation.claimed_at <= now)).one()
    if served < min_served or first is None:
        return None
    if first.tzinfo is None:  # SQLite drops the zone of an aggregate
        first = first.replace(tzinfo=dt.timezone.utc)
    span = max(MIN_SPAN_MINUTES, (now - first).total_seconds() / 60)
    return float(served) / span


def wait_for(place: Optional[int], rate: Optional[float], floor_minutes: int) -> Optional[Wait]:
    """The wait of the `place`-th in the queue at the observed rate: a range from 0.7 to 1.5
    times the expected wait, never below the floor; None without a place or a rate."""
    if place is None or not rate:
        return None
    expected = place / rate
    low = max(floor_minutes, math.floor(expected * 0.7))
    high = max(low + 1, math.ceil(expected * 1.5))
    return Wait(low, high)


def opening(language: str, now: Optional[dt.datetime] = None) -> tuple[bool, Optional[str]]:
    """(open now, next opening described in the customer's language)."""
    return opening_hours.opening(language, now or dt.datetime.now(dt.timezone.utc))
