"""Queue position and waiting time from the live queue, agents online and the measured
average handling time; opening hours per country with public holidays."""

from __future__ import annotations

import datetime as dt
import math
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import opening_hours
from core.vocabulary import EscalationStatus, Priority
from api.models import Escalation

def queue_order(escalation: Escalation) -> tuple:
    """Highest priority first, then oldest first."""
    return (Priority(escalation.priority).rank, escalation.created_at, escalation.id)


def queued(session: Session) -> list[Escalation]:
    rows = session.scalars(select(Escalation).where(Escalation.status == EscalationStatus.QUEUED)).all()
    return sorted(rows, key=queue_order)


def position(session: Session, escalation: Escalation) -> Optional[int]:
    for index, item in enumerate(queued(session), start=1):
        if item.id == escalation.id:
            return index
    return None


def average_handling_minutes(session: Session, default: float, sample: int = 50) -> float:
    """Mean of claimed-to-resolved minutes of the latest resolved escalations."""
    rows = session.scalars(
        select(Escalation).where(Escalation.resolved_at.is_not(None),
                                 Escalation.claimed_at.is_not(None))
        .order_by(Escalation.resolved_at.desc()).limit(sample)
    ).all()
    durations = [(r.resolved_at - r.claimed_at).total_seconds() / 60 for r in rows]
    return sum(durations) / len(durations) if durations else default


def eta_minutes(place: Optional[int], agents_online: int, handling_minutes: float) -> Optional[int]:
    """Minutes until an agent picks this up: the people ahead, shared by the agents online."""
    if place is None or agents_online < 1:
        return None
    return max(1, math.ceil(place * handling_minutes / agents_online))


def opening(language: str, now: Optional[dt.datetime] = None) -> tuple[bool, Optional[str]]:
    """(open now, next opening described in the customer's language)."""
    return opening_hours.opening(language, now or dt.datetime.now(dt.timezone.utc))
