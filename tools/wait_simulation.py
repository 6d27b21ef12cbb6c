"""Do the waits customers are told come true? A morning of customer service, simulated on
the service's own functions and database, compares each wait told with the wait that came.

    python -m tools.wait_simulation [--seed 7] [--claiming auto|manual] [--steady]
                                    [--database-url sqlite:///...]

The morning (`scenario`, drawn from the seed): per language a team of agents, and two who
serve two languages, each with a capacity of 1 to 3 conversations at once and an average
handling time of 8 to 16 minutes; conversations end after exponential times. Customers ask
for a person at random (Poisson) for four hours, at a rate set against what each team can
serve: Norwegian ones most (95% of the capacity on average), then Danish (85%) and Swedish
(75%), fewer in the first hour and a quarter more from 09:30 to 11:00 (--steady: the
average rate all morning). Agents come and go:
a Danish agent starts half an hour late, a Norwegian one is away for lunch, a Swedish one
leaves early. Agents take conversations in one of the service's two ways: `auto` (an agent
with room is given the next escalation in their languages at once, NORDHEM_AUTO_ASSIGN) or
`manual` (the service's default: an agent with room sees the customer in their queue and
claims after a reaction time, exponential, a minute on average).

Everything runs through the service layer (`create_from_hook`, `listing`, `claim`, `close`,
`set_presence`, `auto_assign`) on a real database, with the hub's clock at the simulated
time. A customer's estimate is the middle of the range their receipt gives; customers given
no wait (no basis yet, or taken at once) count in neither figure. After the last arrival the
agents work until the queues are empty, so that every estimate meets its real wait.

Printed: the median absolute percentage error of the estimates (the issue's target: 30% or
less) and the share of real waits inside the range told, per language and by place in the
queue on arrival.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import heapq
import random
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from api.db import Database
from api.events import EventBus, Events
from api.listeners import wire
from api.migrate import upgrade
from api.models import Agent, Escalation, Presence
from api.schemas import EscalationHook
from api.services import agents, escalations
from api.services.hub import Hub
from api.services.rasa_client import RasaClient
from api.settings import Settings
from core.vocabulary import EscalationStatus
from tests.support.api import make_settings

SEED = 7
Claiming = Literal["auto", "manual"]
# a Tuesday morning without public holidays in Norway, Denmark or Sweden; in the past, so
# that the rows the service stamps with the wall clock sort after every simulated one
START = dt.datetime(2025, 3, 4, 8, 30, tzinfo=ZoneInfo("Europe/Oslo"))
ARRIVAL_MINUTES = 240.0
# how busy each language's queue is on average: arrivals against what its agents can serve
UTILISATION = {"nb": 0.95, "da": 0.85, "sv": 0.75}
# the morning's shape: from this minute on, arrivals are this share of the average
Shape = tuple[tuple[float, float], ...]
PEAK: Shape = ((0, 0.8), (60, 1.25), (150, 0.9))
STEADY: Shape = ((0, 1.0),)
TEAMS = {"nb": 5, "da": 4, "sv": 3}
BILINGUAL: tuple[tuple[str, ...], ...] = (("nb", "da"), ("da", "sv"))
CAPACITY = (1, 3)
HANDLING_MINUTES = (8.0, 16.0)
# claiming by hand: how long an agent with room takes to claim a waiting customer, on average
REACTION_MINUTES = 1.0
# the places on arrival the report groups customers by
PLACES = ((1, 1), (2, 2), (3, 4), (5, 8), (9, None))


@dataclass(frozen=True)
class SimAgent:
    name: str
    languages: tuple[str, ...]
    capacity: int
    handling_minutes: float  # the mean of the exponential handling time
    starts_online: bool = True
    shifts: tuple[tuple[float, Presence], ...] = ()  # (minute, presence from then on)


@dataclass(frozen=True)
class Scenario:
    seed: int
    agents: tuple[SimAgent, ...]
    arrivals_per_minute: Mapping[str, float]  # on average over the morning
    shape: Shape = PEAK

    def share(self, minute: float) -> float:
        """Arrivals at `minute` against the average."""
        return next(share for start, share in reversed(self.shape) if minute >= start)


def scenario(seed: int = SEED, shape: Shape = PEAK) -> Scenario:
    """The morning of `seed`: teams, capacities, handling times, arrival rates."""
    rng = random.Random(seed)
    team = [SimAgent(f"{'+'.join(languages)}-{number}", languages, rng.randint(*CAPACITY),
                     rng.uniform(*HANDLING_MINUTES))
            for number, languages in enumerate(
                [(language,) for language, size in TEAMS.items() for _ in range(size)]
                + list(BILINGUAL), start=1)]
    # who comes and goes: the first Danish agent starts late, the first Norwegian one has
    # lunch, the first Swedish one leaves early
    first = {language: next(i for i, a in enumerate(team) if a.languages == (language,))
             for language in TEAMS}
    team[first["da"]] = dataclasses.replace(team[first["da"]], starts_online=False,
                                            shifts=((30, Presence.ONLINE),))
    team[first["nb"]] = dataclasses.replace(team[first["nb"]], shifts=(
        (120, Presence.AWAY), (160, Presence.ONLINE)))
    team[first["sv"]] = dataclasses.replace(team[first["sv"]],
                                            shifts=((180, Presence.OFFLINE),))
    # conversations per minute each team can finish (an agent of two languages: half each)
    capacity = {language: sum(a.capacity / a.handling_minutes / len(a.languages)
                              for a in team if language in a.languages)
                for language in UTILISATION}
    return Scenario(seed, tuple(team), {language: share * capacity[language]
                                        for language, share in UTILISATION.items()}, shape)


@dataclass
class Customer:
    """One escalation: what its customer was told on arrival, and when a person took it."""

    language: str
    arrived: float
    place: Optional[int]
    low: Optional[int]
    high: Optional[int]
    taken: Optional[float] = None

    @property
    def told(self) -> bool:
        return self.low is not None and self.high is not None and self.taken is not None

    @property
    def waited(self) -> float:
        assert self.taken is not None
        return self.taken - self.arrived

    @property
    def estimate(self) -> float:
        assert self.low is not None and self.high is not None
        return (self.low + self.high) / 2

    def inside(self) -> bool:
        assert self.low is not None and self.high is not None
        return self.low <= self.waited <= self.high


@dataclass(frozen=True)
class Accuracy:
    told: int
    mape: Optional[float]  # median absolute percentage error of the estimates
    coverage: Optional[float]  # share of the real waits inside the range told


def accuracy(customers: Sequence[Customer]) -> Accuracy:
    told = [customer for customer in customers if customer.told]
    if not told:
        return Accuracy(0, None, None)
    # a wait of zero cannot be told (the customer was taken at once): no division by zero
    errors = [abs(c.estimate - c.waited) / c.waited for c in told]
    return Accuracy(len(told), statistics.median(errors),
                    sum(c.inside() for c in told) / len(told))


@dataclass(frozen=True)
class Result:
    scenario: Scenario
    claiming: Claiming
    customers: tuple[Customer, ...]

    def accuracy(self, language: Optional[str] = None,
                 places: tuple[int, Optional[int]] = (1, None)) -> Accuracy:
        lowest, highest = places
        return accuracy([c for c in self.customers
                         if (language is None or c.language == language)
                         and c.place is not None and c.place >= lowest
                         and (highest is None or c.place <= highest)])


class Morning:
    """The simulated morning, on a hub whose clock is the simulated time."""

    def __init__(self, hub: Hub, plan: Scenario, claiming: Claiming) -> None:
        self.hub = hub
        self.plan = plan
        self.claiming = claiming
        self.minute = 0.0
        self.rng = random.Random(plan.seed + 1)  # handling and reaction times
        self.pending: list[tuple[float, int, Callable[[], None]]] = []
        self.scheduled = 0
        self.customers: dict[int, Customer] = {}  # by escalation id
        self.serving: dict[int, int] = {}  # escalation id -> agent id
        self.team: dict[int, SimAgent] = {}  # by agent id
        self.present: dict[int, Presence] = {}
        self.looking: set[int] = set()  # agents about to claim
        hub.clock = lambda: START + dt.timedelta(minutes=self.minute)

    def at(self, minute: float, happening: Callable[[], None]) -> None:
        self.scheduled += 1  # breaks ties in order of scheduling
        heapq.heappush(self.pending, (minute, self.scheduled, happening))

    def run(self) -> tuple[Customer, ...]:
        self.staff()
        self.arrivals()
        while self.pending:
            self.minute, _, happening = heapq.heappop(self.pending)
            happening()
            self.note_taken()
            if self.claiming == "manual":
                self.notice_waiting()
        return tuple(self.customers.values())

    def staff(self) -> None:
        with self.hub.database.sessions() as session:
            for sim in self.plan.agents:
                agent, _ = agents.create(session, sim.name, list(sim.languages), sim.capacity)
                agent.presence = Presence.ONLINE if sim.starts_online else Presence.OFFLINE
                session.commit()
                self.team[agent.id], self.present[agent.id] = sim, agent.presence
                for minute, presence in sim.shifts:
                    self.at(minute, partial(self.change, agent.id, presence))

    def arrivals(self) -> None:
        """Poisson arrivals at each language's rate times the morning's shape (thinned)."""
        rng = random.Random(self.plan.seed + 2)
        busiest = max(share for _, share in self.plan.shape)
        for language, per_minute in self.plan.arrivals_per_minute.items():
            minute = rng.expovariate(per_minute * busiest)
            while minute < ARRIVAL_MINUTES:
                if rng.random() < self.plan.share(minute) / busiest:
                    self.at(minute, partial(self.arrive, language))
                minute += rng.expovariate(per_minute * busiest)

    def arrive(self, language: str) -> None:
        number = len(self.customers) + 1
        hook = EscalationHook(event_id=f"simulated-{number:06d}", sent_at=time.time(),
                              conversation_id=f"sim-{number}", language=language,
                              reason="request_human")
        with self.hub.database.sessions() as session:
            receipt, _ = escalations.create_from_hook(self.hub, session, hook)
            escalation = escalations.by_reference(session, receipt.reference)
            # the service stamps rows with the wall clock: it arrived at the simulated time
            escalation.created_at = self.hub.clock()
            session.commit()
            self.customers[escalation.id] = Customer(
                language, self.minute, receipt.position, receipt.eta_minutes,
                receipt.eta_max_minutes)

    def finish(self, escalation_id: int) -> None:
        agent_id = self.serving.pop(escalation_id)
        with self.hub.database.sessions() as session:
            escalations.close(session, escalation_id, session.get_one(Agent, agent_id),
                              return_to_bot=False)

    def change(self, agent_id: int, presence: Presence) -> None:
        with self.hub.database.sessions() as session:
            came_online = agents.set_presence(session, session.get_one(Agent, agent_id),
                                              presence)
        self.present[agent_id] = presence
        if came_online and self.claiming == "auto":
            escalations.auto_assign(self.hub)

    def notice_waiting(self) -> None:
        """Claiming by hand: an online agent with room and a customer waiting in their
        queue claims after a reaction time."""
        waiting = {c.language for c in self.customers.values()
                   if c.taken is None and c.place is not None}
        held = Counter(self.serving.values())
        for agent_id, sim in self.team.items():
            if agent_id in self.looking or self.present[agent_id] != Presence.ONLINE \
                    or held[agent_id] >= sim.capacity or not waiting & set(sim.languages):
                continue
            self.looking.add(agent_id)
            self.at(self.minute + self.rng.expovariate(1 / REACTION_MINUTES),
                    partial(self.look, agent_id))

    def look(self, agent_id: int) -> None:
        """The agent claims the first escalation their queue offers, if one still waits."""
        self.looking.discard(agent_id)
        if self.present[agent_id] != Presence.ONLINE:
            return
        fallbacks = self.hub.settings.language_fallbacks
        with self.hub.database.sessions() as session:
            agent = session.get_one(Agent, agent_id)
            offered = escalations.listing(session, "queued", 1, agent, fallbacks)
            if offered:
                escalations.claim(session, offered[0].id, agent, fallbacks)

    def note_taken(self) -> None:
        """Escalations given to an agent since the last look: taken now (the simulated time,
        not the service's wall clock); their conversation ends after a random time."""
        with self.hub.database.sessions() as session:
            held = session.execute(select(Escalation.id, Escalation.agent_id).where(
                Escalation.status == EscalationStatus.WITH_AGENT).order_by(Escalation.id))
            for escalation_id, agent_id in held.all():
                if escalation_id in self.serving or agent_id is None:
                    continue
                session.execute(update(Escalation).where(Escalation.id == escalation_id)
                                .values(claimed_at=self.hub.clock()))
                self.serving[escalation_id] = agent_id
                self.customers[escalation_id].taken = self.minute
                handling = self.rng.expovariate(1 / self.team[agent_id].handling_minutes)
                self.at(self.minute + handling, partial(self.finish, escalation_id))
            session.commit()


@contextmanager
def simulated_hub(settings: Settings) -> Iterator[Hub]:
    """The service's hub with all its listeners and no background jobs."""
    upgrade(settings.database_url)
    loop = asyncio.new_event_loop()  # the bus's, which nobody listens to here
    hub = Hub(settings, Database(settings.database_url), Events(), EventBus(loop),
              RasaClient(settings.rasa_url, settings.rasa_timeout_seconds))
    wire(hub)
    try:
        yield hub
    finally:
        loop.run_until_complete(hub.rasa.close())
        loop.close()
        hub.database.engine.dispose()


def simulate(database_url: str, seed: int = SEED, claiming: Claiming = "auto",
             shape: Shape = PEAK) -> Result:
    """Run the morning of `seed` on the empty database at `database_url`."""
    plan = scenario(seed, shape)
    settings = make_settings(database_url, auto_assign=claiming == "auto",
                             outbox_worker=False, purge_interval_seconds=0)
    with simulated_hub(settings) as hub:
        return Result(plan, claiming, Morning(hub, plan, claiming).run())


def _row(label: str, measured: Accuracy) -> str:
    mape = f"{measured.mape:.0%}" if measured.mape is not None else "-"
    coverage = f"{measured.coverage:.0%}" if measured.coverage is not None else "-"
    return f"{label:<12}{measured.told:>6}{mape:>13}{coverage:>10}"


def report(result: Result) -> str:
    waiting = sum(1 for c in result.customers if c.place is not None)
    shape = "a peak" if result.scenario.shape == PEAK else "steady arrivals"
    lines = [f"seed {result.scenario.seed}, {shape}, claiming {result.claiming}: "
             f"{len(result.customers)} escalations in {ARRIVAL_MINUTES:.0f} minutes, "
             f"{waiting} queued on arrival",
             f"{'':<12}{'told':>6}{'median APE':>13}{'in range':>10}",
             _row("all", result.accuracy())]
    lines += [_row(f"{language} queue", result.accuracy(language))
              for language in result.scenario.arrivals_per_minute]
    lines += [_row(f"place {low}" + ("+" if high is None else f"-{high}" if high > low else ""),
                   result.accuracy(places=(low, high))) for low, high in PLACES]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--claiming", choices=["auto", "manual"], default="auto")
    parser.add_argument("--steady", action="store_true",
                        help="customers come at the average rate all morning (no peak)")
    parser.add_argument("--database-url", help="an empty database (default: a SQLite file "
                        "in a temporary directory)")
    args = parser.parse_args()
    started = time.perf_counter()
    shape = STEADY if args.steady else PEAK
    if args.database_url:
        result = simulate(args.database_url, args.seed, args.claiming, shape)
    else:
        with tempfile.TemporaryDirectory() as directory:
            result = simulate(f"sqlite:///{Path(directory) / 'simulation.db'}", args.seed,
                              args.claiming, shape)
    print(report(result))
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
