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
    """APScheduler's cron trigger for a crontab line, weekdays numbered as crontab numbers
    them (0 or 7 = Sunday, 1 = Monday). APScheduler 3's from_crontab takes 0 as Monday
    (agronholm/apscheduler#286), so `0 9 * * 1` would fire on Tuesdays."""
    fields = " ".join(expr.split()).split(" ")
    try:
        if len(fields) != 5:
            raise ValueError(f"wrong number of fields; got {len(fields)}, expected 5")
        minute, hour, day, month, weekday = fields
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_crontab_weekdays(weekday),
            timezone=tz,
        )
    except (ValueError, TypeError) as exc:
        raise CampaignError(
            f"--cron {expr!r}: not a crontab expression (minute hour day month weekday, "
            f"e.g. '0 9 * * 1'): {exc}"
        ) from None


_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _crontab_weekdays(field: str) -> str:
    """A crontab weekday field as APScheduler day names: every `a`, `a-b`, `*/n`, `a-b/n`
    (numbers 0-7 or names sun-sat) expanded to the days it means."""
    if field == "*":
        return field
    days: set[int] = set()
    for token in field.lower().split(","):
        span, _, step = token.partition("/")
        if step and not step.isdigit():
            raise ValueError(f"bad step in weekday {token!r}")
        if span == "*":
            low, high = 0, 6
        else:
            first, _, last = span.partition("-")
            low = _weekday(first)
            high = _weekday(last) if last else low
            if last and high == 0:
                high = 7  # `5-7` / `5-0`: Friday to Sunday
        if high < low:
            raise ValueError(f"weekday range {token!r} runs backwards")
        days.update(d % 7 for d in range(low, high + 1, int(step or 1)))
    return ",".join(_DAYS[d] for d in sorted(days))


def _weekday(value: str) -> int:
    if value.isdigit() and int(value) <= 7:
        return int(value)
    if value in _DAYS:
        return _DAYS.index(value)
    raise ValueError(f"weekday {value!r} is not 0-7 or sun-sat")


def trigger(kind: str, expr: str, first_run: datetime, tz: ZoneInfo):
    """The APScheduler trigger of a stored schedule: a date for one-offs, cron otherwise."""
    if kind == CRON:
        return cron_trigger(expr, tz)
    return DateTrigger(run_date=first_run, timezone=tz)
