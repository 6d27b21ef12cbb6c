"""The service's shared parts, created once per app: settings, database, events, bus, Rasa."""

from __future__ import annotations

from dataclasses import dataclass

from api.db import Database
from api.events import EventBus, Events
from api.services.rasa_client import RasaClient
from api.settings import Settings


@dataclass
class Hub:
    settings: Settings
    database: Database
    events: Events
    bus: EventBus
    rasa: RasaClient
