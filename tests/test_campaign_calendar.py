"""The publicity calendar: solar days, the lunar 重阳节, and when `--calendar` sends."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.answer import find_taxonomy
from scheduler import calendar
from tests.conftest import ROOT

SHANGHAI = ZoneInfo("Asia/Shanghai")

# 重阳节 (lunar 9/9) as published in the national calendars of those years (and checked
# against lunar_python and borax, which agree for every year of 1900-2100).
DOUBLE_NINTH = {
    2019: date(2019, 10, 7),
    2020: date(2020, 10, 25),
    2021: date(2021, 10, 14),
    2022: date(2022, 10, 4),
    2023: date(2023, 10, 23),
    2024: date(2024, 10, 11),
    2025: date(2025, 10, 29),  # a year with a leap sixth month
    2026: date(2026, 10, 18),
    2027: date(2027, 10, 8),
}


@pytest.fixture(scope="module")
def days():
    return calendar.load_calendar(find_taxonomy(ROOT / "content"))


@pytest.mark.parametrize(("year", "published"), sorted(DOUBLE_NINTH.items()))
def test_double_ninth_falls_on_the_published_day(days, year, published):
    assert calendar.day_in_year(days["double-ninth"], year) == published


def test_the_lunar_calendar_is_known_for_1900_to_2100(days):
    first = calendar.day_in_year(days["double-ninth"], 1900)
    last = calendar.day_in_year(days["double-ninth"], 2100)
    assert (first, last) == (date(1900, 10, 31), date(2100, 10, 12))
    assert calendar.lunar_to_solar(2026, 1, 1) == date(2026, 2, 17)  # 春节 2026


def test_solar_days_keep_their_date(days):
    assert calendar.day_in_year(days["constitution-day"], 2027) == date(2027, 12, 4)
    assert days["constitution-day"].theme == "constitution"


def test_calendar_schedule_is_the_next_occurrence_at_send_time(days):
    nine = time(9, 0)
    before = datetime(2026, 10, 18, 8, 0, tzinfo=SHANGHAI)
    after = datetime(2026, 10, 18, 9, 30, tzinfo=SHANGHAI)
    assert calendar.next_occurrence(days["double-ninth"], nine, SHANGHAI, before) == datetime(
        2026, 10, 18, 9, 0, tzinfo=SHANGHAI
    )
    assert calendar.next_occurrence(days["double-ninth"], nine, SHANGHAI, after) == datetime(
        2027, 10, 8, 9, 0, tzinfo=SHANGHAI
    )


def test_every_calendar_day_names_a_theme_of_the_taxonomy(days):
    import tomllib

    themes = tomllib.loads(find_taxonomy(ROOT / "content").read_text())["themes"]
    assert days and all(day.theme in themes for day in days.values())
