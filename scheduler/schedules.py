"""When a campaign goes out: `--at WHEN`, `--calendar KEY` or `--cron EXPR`.

A Schedule says what staff asked for (kind, expression) and the first run it means now;
`trigger()` turns it into the APScheduler trigger the running scheduler uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from bot.errors import CampaignError

from .calendar import CalendarDay, next_occurrence

AT, CALENDAR, CRON = "at", "calendar", "cron"


@dataclass(frozen=True)
class Schedule:
    kind: str  # at | calendar | cron
    expr: str  # the ISO time (with offset), the calendar key, or the crontab line
    first_run: datetime  # aware, UTC


def parse_at(text: str, tz: ZoneInfo, now: datetime) -> Schedule:
    """ISO 8601 date and time, seconds allowed; without an offset it is in `tz`."""
    raw = text.strip()
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise CampaignError(
            f"--at {text!r}: not an ISO 8601 date and time (e.g. 2026-12-04T09:00 or "
            "2026-12-04T09:00:00+08:00)"
        ) from None
    if "T" not in raw.upper() and " " not in raw:
        raise CampaignError(f"--at {text!r}: give a time of day too, e.g. {raw}T09:00")
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    if when <= now:
        local = when.astimezone(tz).isoformat(timespec="seconds")
        raise CampaignError(f"--at {text!r}: {local} is in the past")
    return Schedule(AT, when.astimezone(tz).isoformat(timespec="seconds"), when.astimezone(UTC))


def parse_calendar(
    key: str, days: dict[str, CalendarDay], send_time: str, tz: ZoneInfo, now: datetime
) -> Schedule:
    """The next occurrence of a publicity-calendar day, at campaigns.send_time."""
    day = days.get(key)
    if day is None:
        known = ", ".join(sorted(days))
        raise CampaignError(f"--calendar {key!r}: not a day of the publicity calendar ({known})")
    when = next_occurrence(day, time.fromisoformat(send_time), tz, now)
    return Schedule(CALENDAR, key, when.astimezone(UTC))


def parse_cron(expr: str, tz: ZoneInfo, now: datetime) -> Schedule:
    """A crontab line (minute hour day month weekday) in `tz`; recurring."""
    trigger = cron_trigger(expr, tz)
    first = trigger.get_next_fire_time(None, now.astimezone(tz))
    if first is None:
        raise CampaignError(f"--cron {expr!r}: never fires")
    return Schedule(CRON, " ".join(expr.split()), first.astimezone(UTC))


def cron_trigger(expr: str, tz: ZoneInfo) -> CronTrigger:
    try:
        return CronTrigger.from_crontab(" ".join(expr.split()), timezone=tz)
    except (ValueError, TypeError) as exc:
        raise CampaignError(
            f"--cron {expr!r}: not a crontab expression (minute hour day month weekday, "
            f"e.g. '0 9 * * 1'): {exc}"
        ) from None


def trigger(kind: str, expr: str, first_run: datetime, tz: ZoneInfo):
    """The APScheduler trigger of a stored schedule: a date for one-offs, cron otherwise."""
    if kind == CRON:
        return cron_trigger(expr, tz)
    return DateTrigger(run_date=first_run, timezone=tz)
