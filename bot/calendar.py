"""The publicity calendar (普法日历) of the taxonomy: which day is which, in any year.

Days are solar (`date = "MM-DD"`) or lunar (`lunar = "MM-DD"`, e.g. 重阳节 on the ninth
day of the ninth month). Lunar dates are converted with lunar_python (6tail's lunar,
astronomical new moons and solar terms, valid well beyond 1900–2100). Its results agree
with published calendars; the one year of 1900–2100 where sources differ is 2057, whose
ninth-month new moon falls minutes from midnight Beijing time (lunar_python, borax and
Hong Kong Observatory's corrected note: 10-07; table-based lunardate/zhdate: 10-06).

The answerer tells residents which day is which (bot/answer/facts.py); the campaigns
schedule pushes on them (scheduler/calendar.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from .errors import LegalbotError

_MMDD = re.compile(r"(\d{2})-(\d{2})")


class CalendarError(LegalbotError):
    """A calendar day is malformed, or has no date in the year asked."""


@dataclass(frozen=True)
class CalendarDay:
    """One day of the calendar: `key` for commands, `name` in Chinese, its theme."""

    key: str
    name: str
    theme: str
    month: int
    day: int
    lunar: bool

    def in_year(self, year: int) -> date:
        """The solar date of this day in `year`."""
        if not self.lunar:
            return date(year, self.month, self.day)
        return lunar_to_solar(year, self.month, self.day)

    def describe(self) -> str:
        kind = "农历" if self.lunar else ""
        return f"{self.name}（{kind}{self.month}月{self.day}日）"


def lunar_to_solar(lunar_year: int, month: int, day: int) -> date:
    """The solar date of a lunar date (a regular month, not the leap one) of `lunar_year`.

    The ninth month's days fall in the same solar year; early-month days of the twelfth
    month may fall in January of the next one (day_in_year handles that).
    """
    from lunar_python import Lunar

    try:
        solar = Lunar.fromYmd(lunar_year, month, day).getSolar()
    except Exception as exc:  # lunar_python raises bare Exception for impossible dates
        raise CalendarError(
            f"lunar {month:02d}-{day:02d} does not exist in {lunar_year}: {exc}"
        ) from None
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def day_in_year(day: CalendarDay, year: int) -> date:
    """The date of `day` in solar `year` (lunar 12-xx can belong to the previous lunar year)."""
    if not day.lunar:
        return day.in_year(year)
    for lunar_year in (year, year - 1):
        try:
            solar = lunar_to_solar(lunar_year, day.month, day.day)
        except CalendarError:
            continue
        if solar.year == year:
            return solar
    raise CalendarError(f"{day.key}: lunar {day.month:02d}-{day.day:02d} does not fall in {year}")


def calendar_days(items: Iterable[Mapping[str, Any]], where: str) -> dict[str, CalendarDay]:
    """The `[[calendar]]` tables of the taxonomy as days, by key; CalendarError names the
    first malformed one."""
    days: dict[str, CalendarDay] = {}
    for number, item in enumerate(items, start=1):
        spec = item.get("lunar") or item.get("date") or ""
        found = _MMDD.fullmatch(str(spec))
        if not found or not item.get("key") or not item.get("theme"):
            raise CalendarError(
                f"{where}: calendar day {number} needs key, theme and date or lunar MM-DD"
            )
        days[item["key"]] = CalendarDay(
            key=item["key"],
            name=item.get("name", item["key"]),
            theme=item["theme"],
            month=int(found.group(1)),
            day=int(found.group(2)),
            lunar="lunar" in item,
        )
    return days
