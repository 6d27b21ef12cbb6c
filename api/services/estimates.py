"""Queue position and waiting time from the live queue, agents online and the measured
average handling time; opening hours per country with public holidays."""

from __future__ import annotations

import datetime as dt
import math
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.expectations import describe_opening, schedule_for
from api.models import Escalation

PRIORITY_ORDER = {"urgent": 0, "high": 1, "normal": 2}


def queue_order(escalation: Escalation) -> tuple:
    """Highest priority first, then oldest first."""
    return (PRIORITY_ORDER.get(escalation.priority, 3), escalation.created_at, escalation.id)


def queued(session: Session) -> list[Escalation]:
    rows = session.scalars(select(Escalation).where(Escalation.status == "queued")).all()
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
    now = now or dt.datetime.now(dt.timezone.utc)
    schedule = schedule_for(language)
    if schedule.is_open(now):
        return True, None
    return False, describe_opening(schedule.next_open(now), now, language)
