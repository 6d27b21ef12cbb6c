"""The service's shared parts, created once per app: settings, database, events, bus, Rasa."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from api.db import Database
from api.events import EventBus, Events
from api.services.admission import Admission
from api.services.agents import OpenConsoles
from api.services.rasa_client import RasaClient
from api.services.typing import TypingThrottle
from api.settings import Settings


@dataclass
class Hub:
    settings: Settings
    database: Database
    events: Events
    bus: EventBus
    rasa: RasaClient
    # the service's clock: waiting times and opening hours read it, tests inject it
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.timezone.utc))
    # typing signals relayed at most once per interval (the routes pass `clock()` in)
    typing: TypingThrottle = field(init=False)
    # the agents' console sockets on this instance, which set their presence
    consoles: OpenConsoles = field(default_factory=OpenConsoles)
    # this process's slots at Rasa and their short queue
    admission: Admission = field(init=False)

    def __post_init__(self) -> None:
        self.typing = TypingThrottle(self.settings.typing_interval_seconds)
        self.admission = Admission(self.settings.rasa_max_in_flight, self.settings.rasa_max_waiting,
                                   self.settings.rasa_wait_seconds, self.settings.busy_retry_seconds)
