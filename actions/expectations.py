"""When customer service is open, per country: the hand-off says what happens next and when.

Opening hours are configuration (content/opening_hours.yml); public holidays of Norway,
Denmark and Sweden come from the `holidays` library and are closed days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, Optional, Text, Tuple
from zoneinfo import ZoneInfo

import holidays
import yaml

from bot.content import CONTENT_DIR, DEFAULT_LANGUAGE

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_NAMES = {
    "nb": ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"),
    "da": ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"),
    "sv": ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"),
}
WORDS = {
    "nb": {"today": "i dag", "tomorrow": "i morgen", "at": "kl."},
    "da": {"today": "i dag", "tomorrow": "i morgen", "at": "kl."},
    "sv": {"today": "i dag", "tomorrow": "i morgon", "at": "kl."},
}
Span = Tuple[dt.time, dt.time]


@dataclass(frozen=True)
class Schedule:
    """One country's opening hours."""

    country: Text
    timezone: ZoneInfo
    hours: Dict[int, Span]

    def is_open_day(self, day: dt.date) -> bool:
        return day.weekday() in self.hours and day not in _holidays(self.country, day.year)

    def is_open(self, moment: dt.datetime) -> bool:
        local = moment.astimezone(self.timezone)
        if not self.is_open_day(local.date()):
            return False
        start, end = self.hours[local.weekday()]
        return start <= local.time() < end

    def next_open(self, moment: dt.datetime) -> dt.datetime:
        """The next time customer service opens after `moment` (local time)."""
        local = moment.astimezone(self.timezone)
        for offset in range(0, 30):
            day = local.date() + dt.timedelta(days=offset)
            if not self.is_open_day(day):
                continue
            opens = dt.datetime.combine(day, self.hours[day.weekday()][0], self.timezone)
            if opens > local:
                return opens
        raise ValueError(f"no opening within 30 days for {self.country}")


@lru_cache(maxsize=None)
def _holidays(country: Text, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(country, years=year)


def _span(text: Text) -> Span:
    start, end = text.split("-")
    return dt.time.fromisoformat(start.strip()), dt.time.fromisoformat(end.strip())


@lru_cache(maxsize=None)
def schedules(path: Path = CONTENT_DIR / "opening_hours.yml") -> Dict[Text, Schedule]:
    """Each language's (country's) schedule from the configuration file."""
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {
        language: Schedule(
            country=entry["country"],
            timezone=ZoneInfo(entry["timezone"]),
            hours={WEEKDAYS.index(day): _span(span) for day, span in entry["hours"].items()},
        )
        for language, entry in config.items()
    }


def schedule_for(language: Optional[Text]) -> Schedule:
    all_schedules = schedules()
    return all_schedules.get(language or DEFAULT_LANGUAGE, all_schedules[DEFAULT_LANGUAGE])


def describe_opening(opens: dt.datetime, now: dt.datetime, language: Text) -> Text:
    """'i morgen kl. 08:00', 'mandag kl. 08:00' in the customer's language."""
    words = WORDS.get(language, WORDS[DEFAULT_LANGUAGE])
    names = DAY_NAMES.get(language, DAY_NAMES[DEFAULT_LANGUAGE])
    days_ahead = (opens.date() - now.astimezone(opens.tzinfo).date()).days
    if days_ahead == 0:
        day = words["today"]
    elif days_ahead == 1:
        day = words["tomorrow"]
    elif days_ahead < 7:
        day = names[opens.weekday()]
    else:
        day = f"{names[opens.weekday()]} {opens.day}.{opens.month}."
    return f"{day} {words['at']} {opens:%H:%M}"
