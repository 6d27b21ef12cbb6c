"""The service's shared parts, created once per app: settings, database, bus, Rasa."""

from __future__ import annotations

from dataclasses import dataclass

from api.db import Database
from api.events import EventBus
from api.services.rasa_client import RasaClient
from api.settings import Settings


@dataclass
class Hub:
    settings: Settings
    database: Database
    bus: EventBus
    rasa: RasaClient
