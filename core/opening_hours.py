"""When customer service is open, per country: the hand-off says what happens next and when.

Opening hours are configuration (content/opening_hours.yml); public holidays of Norway,
Denmark and Sweden come from the `holidays` library and are closed days. Every function
takes the moment it is asked about, so that tests inject the clock. The words of a date
("i morgen kl. 08:00") are in content/calendar.yml.
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

from core.content import CONTENT_DIR, calendar_words, in_language
from core.languages import DEFAULT_LANGUAGE

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
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
    """The schedule of the language's country (the default language's when unknown)."""
    all_schedules = schedules()
    return all_schedules.get(language or DEFAULT_LANGUAGE, all_schedules[DEFAULT_LANGUAGE])


def describe_opening(opens: dt.datetime, now: dt.datetime, language: Text) -> Text:
    """'i morgen kl. 08:00', 'mandag kl. 08:00' in the customer's language."""
    words = calendar_words()
    names = day_names(language)
    days_ahead = (opens.date() - now.astimezone(opens.tzinfo).date()).days
    if days_ahead == 0:
        day = in_language(words["today"], language)
    elif days_ahead == 1:
        day = in_language(words["tomorrow"], language)
    elif days_ahead < 7:
        day = names[opens.weekday()]
    else:
        day = f"{names[opens.weekday()]} {opens.day}.{opens.month}."
    return f"{day} {in_language(words['at_time'], language)} {opens:%H:%M}"


def day_names(language: Optional[Text]) -> Tuple[Text, ...]:
    """Monday to Sunday in the language (content/calendar.yml)."""
    names = tuple(name.strip() for name in
                  in_language(calendar_words()["day_names"], language).split(","))
    if len(names) != 7:
        raise ValueError(f"content/calendar.yml: day_names ({language}) needs 7 names")
    return names


def opening(language: Optional[Text], now: dt.datetime) -> Tuple[bool, Optional[Text]]:
    """(open now, the next opening in the customer's words when closed)."""
    schedule = schedule_for(language)
    if schedule.is_open(now):
        return True, None
    return False, describe_opening(schedule.next_open(now), now, language or DEFAULT_LANGUAGE)


def describe_wait(low: int, high: int, language: Optional[Text]) -> Text:
    """'omtrent 5–10 minutter', 'cirka 1 minut' in the customer's language."""
    words = calendar_words()
    if low == high == 1:
        return in_language(words["wait_one_minute"], language)
    if low == high:
        return in_language(words["wait_minutes"], language).format(minutes=low)
    return in_language(words["wait_range"], language).format(low=low, high=high)
