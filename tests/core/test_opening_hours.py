"""Opening hours per country with an injected clock: weekdays, Saturday, Sunday, holidays."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from core.opening_hours import day_names, describe_opening, opening, schedule_for

OSLO = ZoneInfo("Europe/Oslo")
STOCKHOLM = ZoneInfo("Europe/Stockholm")
COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def at(year: int, month: int, day: int, hour: int, minute: int = 0, zone: ZoneInfo = OSLO) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=zone)


def test_open_on_a_weekday_between_eight_and_eight() -> None:
    tuesday = at(2026, 12, 1, 9, 30)
    assert opening("nb", tuesday) == (True, None)


def test_closing_time_is_closed_and_opens_tomorrow_morning() -> None:
    tuesday_evening = at(2026, 12, 1, 20, 0)
    assert opening("nb", tuesday_evening) == (False, "i morgen kl. 08:00")


def test_saturday_has_short_hours() -> None:
    saturday = at(2026, 12, 5, 10, 30)
    assert opening("da", saturday.astimezone(COPENHAGEN)) == (True, None)
    saturday_after_four = at(2026, 12, 5, 16, 15, COPENHAGEN)
    # closed on Sunday, so the next opening is Monday morning
    assert opening("da", saturday_after_four) == (False, "mandag kl. 08:00")


def test_sunday_morning_opens_tomorrow_in_swedish_words() -> None:
    sunday = at(2026, 12, 6, 9, 0, STOCKHOLM)
    assert opening("sv", sunday) == (False, "i morgon kl. 08:00")


def test_a_public_holiday_is_closed_in_its_country_only() -> None:
    # 17 May is Norway's constitution day: a Monday in 2027, a working day in Sweden
    constitution_day = at(2027, 5, 17, 11, 0)
    assert opening("nb", constitution_day) == (False, "i morgen kl. 08:00")
    assert opening("sv", constitution_day.astimezone(STOCKHOLM)) == (True, None)


def test_christmas_skips_to_the_next_working_day() -> None:
    # Thursday 24 December evening: 25th and 26th are holidays, Sunday 27th is closed
    christmas_eve = at(2026, 12, 24, 21, 0, COPENHAGEN)
    assert opening("da", christmas_eve)[0] is False
    opens = schedule_for("da").next_open(christmas_eve)
    assert opens.date() == dt.date(2026, 12, 28)
    assert describe_opening(opens, christmas_eve, "da") == "mandag kl. 08:00"


def test_christmas_eve_is_a_holiday_in_sweden_but_not_in_denmark() -> None:
    noon = at(2026, 12, 24, 12, 0, COPENHAGEN)
    assert opening("da", noon) == (True, None)
    assert opening("sv", noon)[0] is False


def test_an_opening_a_week_or_more_ahead_carries_its_date() -> None:
    now = at(2026, 12, 1, 9, 0)
    opens = at(2026, 12, 10, 8, 0)
    assert describe_opening(opens, now, "nb") == "torsdag 10.12. kl. 08:00"


def test_day_names_come_from_content_in_each_language() -> None:
    assert day_names("sv")[5] == "lördag"
    assert day_names("da")[0] == "mandag"
    assert len(day_names("nb")) == 7


def test_an_unknown_language_uses_norway() -> None:
    assert schedule_for("en").country == "NO"


@pytest.mark.parametrize("language", ["nb", "da", "sv"])
def test_every_country_opens_within_a_week_from_any_moment(language: str) -> None:
    start = at(2026, 12, 20, 0, 0)
    for hours in range(0, 24 * 14, 5):
        moment = start + dt.timedelta(hours=hours)
        opens = schedule_for(language).next_open(moment)
        assert moment < opens < moment + dt.timedelta(days=7)
