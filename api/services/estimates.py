"""Queue order and position in SQL, one queue per language; the wait from the place and
the rate at which that language's queue was actually served lately, scaled by the capacity
online now, with a floor and a range, and none without a basis; opening hours per country
with public holidays.

How well the waits come true is measured by a simulation (tools/wait_simulation.py)."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from api.models import Agent, Escalation, Presence
from api.services import agents
from api.services.agents import Fallbacks
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


@dataclass(frozen=True)
class Served:
    """What one language's queue saw in the window: how many of its escalations a person
    took, when the first was taken, and the capacity (conversations at once) of the agents
    who took them; 0 when none of them is known (taken through a helpdesk, say)."""

    count: int
    first: dt.datetime
    slots: int


@dataclass(frozen=True)
class ServiceRate:
    """How fast a language's queue is served now, in escalations taken per minute, and how
    many taken escalations that rests on (the fewer, the less sure the rate)."""

    per_minute: float
    basis: int


def served_lately(session: Session, now: dt.datetime,
                  window_minutes: int) -> dict[str, Served]:
    """Each language's escalations taken by a person in the window before `now`, whenever
    they were resolved: a conversation closed in seconds was still served once (two
    queries for all languages)."""
    since = now - dt.timedelta(minutes=window_minutes)
    in_window = (Escalation.claimed_at.is_not(None), Escalation.claimed_at >= since,
                 Escalation.claimed_at <= now)
    counted = session.execute(
        select(Escalation.language, func.count(), func.min(Escalation.claimed_at))
        .where(*in_window).group_by(Escalation.language)).all()
    takers = select(Escalation.language, Escalation.agent_id).where(
        *in_window, Escalation.agent_id.is_not(None)).distinct().subquery()
    slots: dict[str, Optional[int]] = {language: total for language, total in session.execute(
        select(takers.c.language, func.sum(Agent.max_conversations))
        .join(Agent, Agent.id == takers.c.agent_id).group_by(takers.c.language)).all()}
    result = {}
    for language, count, first in counted:
        if first is None:  # not reached: each group counts at least one claim
            continue
        if first.tzinfo is None:  # SQLite drops the zone of an aggregate
            first = first.replace(tzinfo=dt.timezone.utc)
        result[language] = Served(count, first, int(slots.get(language) or 0))
    return result


@dataclass(frozen=True)
class Capacity:
    """A language's agents online now: the conversations they may hold at once, and how
    many more they may take now (an agent taking two languages counts in both)."""

    slots: int
    free: int


NO_CAPACITY = Capacity(0, 0)


def capacity_online(session: Session, fallbacks: Fallbacks) -> dict[str, Capacity]:
    """Each language's capacity now, from the online, active agents who take it."""
    online = session.execute(select(Agent.id, Agent.languages, Agent.max_conversations).where(
        Agent.active.is_(True), Agent.presence == Presence.ONLINE)).all()
    held = agents.loads(session) if online else {}
    slots: dict[str, int] = defaultdict(int)
    free: dict[str, int] = defaultdict(int)
    for agent_id, languages, capacity in online:
        for language in agents.languages_taken(languages, fallbacks):
            slots[language] += capacity
            free[language] += max(0, capacity - held.get(agent_id, 0))
    return {language: Capacity(slots[language], free[language]) for language in slots}


def service_rate(served: Optional[Served], now: dt.datetime, slots_now: int,
                 min_served: int) -> Optional[ServiceRate]:
    """The rate at which the queue was served, from the first taken in the window until now
    (at least `MIN_SPAN_MINUTES`), scaled by the capacity online now against the capacity of
    the agents who served it: one of three equal agents gone for lunch makes it two thirds.
    None when fewer than `min_served` were taken (no basis). Unscaled when either capacity
    is unknown (nobody here online: a helpdesk may be serving the queue).

    A queue that was not busy all the window was served only as fast as customers came,
    slower than its agents can: the wait is then rather over- than underestimated (the
    simulation in tools/wait_simulation.py measures by how much)."""
    if served is None or served.count < min_served:
        return None
    span = max(MIN_SPAN_MINUTES, (now - served.first).total_seconds() / 60)
    per_minute = served.count / span
    if served.slots and slots_now:
        per_minute *= slots_now / served.slots
    return ServiceRate(per_minute, served.count)


def wait_for(place: Optional[int], rate: Optional[ServiceRate], floor_minutes: int,
             free: int = 0) -> Optional[Wait]:
    """The wait of the `place`-th in the queue. Agents with room (`free` conversations
    more) take the first in line as soon as they see them: the floor. The others wait for
    the escalations ahead of them beyond those to be taken, at the rate. The range is about
    one standard deviation either side, from the two things not known: when the next
    conversations end (at random: a spread of 1/sqrt(n) for the n-th to be taken) and the
    rate itself (measured on `basis` escalations: 1/sqrt(basis)); so the first in line
    hears a wide range, the tenth a narrower one. Never below the floor; None without a
    place or a rate."""
    if place is None or rate is None or rate.per_minute <= 0:
        return None
    ahead = place - free
    if ahead <= 0:
        return Wait(floor_minutes, floor_minutes + 1)
    expected = ahead / rate.per_minute
    spread = math.sqrt(1 / ahead + 1 / rate.basis)
    low = max(floor_minutes, math.floor(expected * (1 - spread)))
    high = max(low + 1, math.ceil(expected * (1 + spread)))
    return Wait(low, high)


def opening(language: str, now: Optional[dt.datetime] = None) -> tuple[bool, Optional[str]]:
    """(open now, next opening described in the customer's language)."""
    return opening_hours.opening(language, now or dt.datetime.now(dt.timezone.utc))
