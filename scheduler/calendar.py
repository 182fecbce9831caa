"""The publicity calendar for campaigns: the days of bot/calendar.py, in campaign errors.

Which day is which lives in bot/calendar.py (the answerer tells residents the same
days); this module turns its errors into CampaignError, which the campaign commands and
the console show as they are, and finds the next occurrence of a day to schedule on.
"""

from __future__ import annotations

import tomllib
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot import calendar as days_of
from bot.calendar import CalendarDay, CalendarError
from bot.errors import CampaignError

__all__ = ["CalendarDay", "day_in_year", "load_calendar", "lunar_to_solar", "next_occurrence"]


def lunar_to_solar(lunar_year: int, month: int, day: int) -> date:
    """bot.calendar.lunar_to_solar, refusing an impossible date as a CampaignError."""
    try:
        return days_of.lunar_to_solar(lunar_year, month, day)
    except CalendarError as exc:
        raise CampaignError(str(exc)) from None


def load_calendar(taxonomy_path: Path) -> dict[str, CalendarDay]:
    """The `[[calendar]]` days of the taxonomy file, by key."""
    try:
        with Path(taxonomy_path).open("rb") as fh:
            data = tomllib.load(fh)
        return days_of.calendar_days(data.get("calendar", []), str(taxonomy_path))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CampaignError(
            f"{taxonomy_path}: cannot read the publicity calendar ({exc})"
        ) from None
    except CalendarError as exc:
        raise CampaignError(str(exc)) from None


def day_in_year(day: CalendarDay, year: int) -> date:
    """The date of `day` in solar `year` (lunar 12-xx can belong to the previous lunar year)."""
    try:
        return days_of.day_in_year(day, year)
    except CalendarError as exc:
        raise CampaignError(str(exc)) from None


def next_occurrence(day: CalendarDay, send_time: time, tz: ZoneInfo, now: datetime) -> datetime:
    """The first moment at `send_time` on `day` that is still ahead of `now`."""
    local_now = now.astimezone(tz)
    for year in (local_now.year, local_now.year + 1, local_now.year + 2):
        try:
            when = datetime.combine(day_in_year(day, year), send_time, tz)
        except CampaignError:
            continue
        if when > local_now + timedelta(seconds=1):
            return when
    raise CampaignError(f"{day.key}: no occurrence in the next two years")
