"""Queue order and position in SQL, the wait from the place, the agents online and the
measured average handling time; opening hours per country with public holidays."""

from __future__ import annotations

import datetime as dt
import math
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


def queued(session: Session) -> list[Escalation]:
    """The waiting escalations in queue order."""
    return list(session.scalars(select(Escalation)
                                .where(Escalation.status == EscalationStatus.QUEUED)
                                .order_by(*queue_order())))


def position(session: Session, escalation: Escalation) -> Optional[int]:
    """1 for the next to be taken; None when it is not waiting. Counted in SQL: the queued
    escalations that sort before this one."""
    if escalation.status != EscalationStatus.QUEUED:
        return None
    rank, created = rank_of(escalation.priority), escalation.created_at
    before = or_(priority_rank() < rank,
                 and_(priority_rank() == rank,
                      or_(Escalation.created_at < created,
                          and_(Escalation.created_at == created, Escalation.id < escalation.id))))
    ahead = session.scalar(select(func.count()).select_from(Escalation)
                           .where(Escalation.status == EscalationStatus.QUEUED, before)) or 0
    return ahead + 1


def average_handling_minutes(session: Session, default: float, sample: int = 50) -> float:
    """Mean of claimed-to-resolved minutes of the latest resolved escalations."""
    rows = session.execute(
        select(Escalation.claimed_at, Escalation.resolved_at)
        .where(Escalation.resolved_at.is_not(None), Escalation.claimed_at.is_not(None))
        .order_by(Escalation.resolved_at.desc()).limit(sample)
    ).all()
    durations = [(resolved - claimed).total_seconds() / 60 for claimed, resolved in rows
                 if claimed is not None and resolved is not None]
    return sum(durations) / len(durations) if durations else default


def eta_minutes(place: Optional[int], agents_online: int, handling_minutes: float) -> Optional[int]:
    """Minutes until an agent picks this up: the people ahead, shared by the agents online."""
    if place is None or agents_online < 1:
        return None
    return max(1, math.ceil(place * handling_minutes / agents_online))


def opening(language: str, now: Optional[dt.datetime] = None) -> tuple[bool, Optional[str]]:
    """(open now, next opening described in the customer's language)."""
    return opening_hours.opening(language, now or dt.datetime.now(dt.timezone.utc))
