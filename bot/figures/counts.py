"""Counting events: THE definition of every count, over raw and rolled-up days alike.

Every figure of a period is what the raw `events` still hold plus what the roll-up
(rollup.py) kept of the deleted ones: `daily_counts` for counts, `daily_users` for
distinct residents. Counts are derived from grouped rows by one Python function,
`metric_keys`, for raw and rolled-up data alike, so a figure cannot change when its
events are rolled up.

Days are local days of the configured time zone. Queries are single short read
transactions (a SQLite WAL reader never blocks the webhook's writer).
"""

from __future__ import annotations

import contextlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, case, func, select, union

from ..records import DailyCount, DailyUser, Event, RollupState, aware

GRANULARITIES = ("day", "week", "month", "year")
# Reply kinds that change what a message counts as (README, "What counts"): greetings,
# the menu and theme lists are not questions, even where an older version recorded them
# as such; a suggestion and a referral are unanswered questions counted apart as well;
# `urgent` is a resident in danger, answered with the emergency number first.
NOT_QUESTIONS = ("greeting", "menu", "theme_list", "urgent")
_COUNTED_REPLIES = (*NOT_QUESTIONS, "suggest", "referral")

# The event columns every count is derived from; entry and click key only where they
# count, so the groups stay few (a VIEW's URL must not make a group per page).
_GROUP_COLUMNS = (
    Event.kind,
    Event.is_message,
    Event.is_question,
    Event.matched,
    Event.theme,
    case((Event.matched.is_(True), Event.entry_id)).label("entry"),
    Event.scene,
    case((Event.kind == "click", Event.event_key)).label("click_key"),
    case((Event.reply_kind.in_(_COUNTED_REPLIES), Event.reply_kind)).label("reply"),
)
_GROUP_NAMES = tuple(column.key for column in _GROUP_COLUMNS)


def current_year(tz: ZoneInfo) -> tuple[date, date]:
    """The current calendar year in the configured time zone: the default period."""
    year = datetime.now(tz).year
    return date(year, 1, 1), date(year, 12, 31)


def midnight(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant of local midnight at the start of `day`."""
    return datetime.combine(day, time.min, tz).astimezone(UTC)


def bounds(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC instants of local midnight at `start` and after `end` (`end` is inclusive)."""
    return midnight(start, tz), midnight(end + timedelta(days=1), tz)


def metric_keys(
    kind, is_message, is_question, matched, theme, entry, scene, click_key, reply=None
) -> Iterator[tuple[str, str]]:
    """The (metric, key) pairs one event counts towards: THE definition of every count."""
    question = bool(is_question) and reply not in NOT_QUESTIONS
    answered = question and matched is True
    if is_message:
        yield "messages", ""
        yield "kind", kind
    if question:
        yield ("answered" if answered else "unanswered"), ""
        if reply == "suggest":
            yield "suggested", ""
        elif reply == "referral":
            yield "referred", ""
    if reply == "urgent":
        yield "urgent", ""
    if answered and theme:
        yield "theme", theme
    if answered and entry:
        yield "entry", entry
    if kind == "subscribe":
        yield "subscribes", ""
        if scene:
            yield "scene", scene
    elif kind == "unsubscribe":
        yield "unsubscribes", ""
    elif kind == "click":
        yield "clicks", ""
        if click_key:
            yield "click", click_key
    elif kind == "scan" and scene:
        yield "scan", scene


# ---- time zone: local days in SQL ----------------------------------------------------


def offset_segments(low: datetime, high: datetime, tz: ZoneInfo) -> list[tuple[datetime, int]]:
    """(start, UTC offset in minutes) of each stretch of [low, high) with one offset.

    SQLite has no time zones; a local day is date(created_at + offset) within a stretch.
    Asia/Shanghai has one stretch; zones with daylight saving time have one per change,
    found by bisection to the microsecond (changes are months apart; a week is the probe).
    """
    segments = [(low, _offset(low, tz))]
    probe = low
    while probe < high:
        step = min(probe + timedelta(days=7), high)
        if _offset(step, tz) == segments[-1][1]:
            probe = step
            continue
        before, after = probe, step
        while after - before > timedelta(microseconds=1):
            middle = before + (after - before) / 2
            if _offset(middle, tz) == segments[-1][1]:
                before = middle
            else:
                after = middle
        if after < high:
            segments.append((after, _offset(after, tz)))
        probe = after
    return segments


def _offset(at: datetime, tz: ZoneInfo) -> int:
    return int(at.astimezone(tz).utcoffset().total_seconds() // 60)


def local_day(conn: Connection, column, tz: ZoneInfo, low: datetime, high: datetime):
    """SQL for the local date of a UTC timestamp column (a date, or 'YYYY-MM-DD' text)."""
    if conn.dialect.name == "postgresql":
        return func.date(func.timezone(tz.key, column))
    segments = offset_segments(low, high, tz)
    days = [func.date(column, f"{minutes:+d} minutes") for _, minutes in segments]
    if len(days) == 1:
        return days[0]
    whens = [(column < nxt, day) for (nxt, _), day in zip(segments[1:], days, strict=False)]
    return case(*whens, else_=days[-1])


def as_date(value) -> date:
    """Dates come back as `date` from PostgreSQL and as text from SQLite."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def bucket_start(day: date, granularity: str) -> date:
    """First day of the week (Monday), month or year `day` falls in."""
    if granularity == "week":
        return day - timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    if granularity == "year":
        return day.replace(month=1, day=1)
    return day


def bucket_label(start: date, granularity: str) -> str:
    if granularity == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if granularity == "month":
        return start.strftime("%Y-%m")
    if granularity == "year":
        return str(start.year)
    return start.isoformat()


# ---- counts --------------------------------------------------------------------------


class Counts:
    """metric -> key -> count for a period (or one day)."""

    def __init__(self) -> None:
        self.data: dict[str, Counter] = defaultdict(Counter)

    def add(self, metric: str, key: str, count: int) -> None:
        self.data[metric][key or ""] += count

    def total(self, metric: str) -> int:
        return sum(self.data.get(metric, Counter()).values())

    def by_key(self, metric: str) -> dict[str, int]:
        items = [(k, v) for k, v in self.data.get(metric, Counter()).items() if v]
        return dict(sorted(items, key=lambda kv: (-kv[1], kv[0])))

    def add_group(self, row: Iterable, count: int) -> None:
        for metric, key in metric_keys(*row):
            self.add(metric, key, count)


@contextlib.contextmanager
def _hash_grouping(conn: Connection):
    """PostgreSQL estimates one group per combination of the grouped columns (800,000
    for a year of events) and sorts every row to group them; there are a few hundred
    groups, and hashing them is three times faster. Local to the read transaction."""
    if conn.dialect.name != "postgresql":
        yield
        return
    conn.exec_driver_sql("SET LOCAL enable_sort = off")
    conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")
    try:
        yield
    finally:
        conn.exec_driver_sql("SET LOCAL enable_sort TO DEFAULT")
        conn.exec_driver_sql("SET LOCAL work_mem TO DEFAULT")


def raw_counts_by_day(conn: Connection, tz: ZoneInfo, low: datetime, high: datetime):
    """{local day: Counts} of the raw events in [low, high)."""
    day = local_day(conn, Event.created_at, tz, low, high).label("day")
    inner = select(day, *_GROUP_COLUMNS).where(Event.created_at >= low, Event.created_at < high)
    sub = inner.subquery()
    columns = [sub.c[name] for name in _GROUP_NAMES]
    query = select(sub.c.day, *columns, func.count()).group_by(sub.c.day, *columns)
    result: dict[date, Counts] = defaultdict(Counts)
    with _hash_grouping(conn):
        rows = conn.execute(query).all()
    for row in rows:
        result[as_date(row[0])].add_group(row[1:-1], row[-1])
    return result


def raw_counts(conn: Connection, low: datetime, high: datetime, into: Counts) -> None:
    """Add the counts of the raw events in [low, high) (one grouped scan) to `into`."""
    query = (
        select(*_GROUP_COLUMNS, func.count())
        .where(Event.created_at >= low, Event.created_at < high)
        .group_by(*_GROUP_COLUMNS)
    )
    with _hash_grouping(conn):
        rows = conn.execute(query).all()
    for row in rows:
        into.add_group(row[:-1], row[-1])


def _rolled_counts(conn: Connection, start: date, end: date, into: Counts) -> None:
    query = (
        select(DailyCount.metric, DailyCount.key, func.sum(DailyCount.count))
        .where(DailyCount.day >= start, DailyCount.day <= end)
        .group_by(DailyCount.metric, DailyCount.key)
    )
    for metric, key, count in conn.execute(query):
        into.add(metric, key, int(count))


@dataclass(frozen=True)
class Parts:
    """Where a period's figures come from: raw events in [raw_low, raw_high) and
    rolled-up days in [first_day, last_day]; either may be absent."""

    raw: tuple[datetime, datetime] | None
    rolled: tuple[date, date] | None


def parts(conn: Connection, tz: ZoneInfo, start: date, end: date) -> Parts:
    """Split a period at the roll-up's watermark (bot/rollup.py): days before it are
    read from the daily tables, instants after it from the raw events, never both."""
    low, high = bounds(start, end, tz)
    mark = conn.execute(
        select(RollupState.aggregated_day, RollupState.aggregated_at).where(RollupState.id == 1)
    ).first()
    if mark is None:
        return Parts((low, high), None)
    day, at = as_date(mark[0]), aware(mark[1])
    raw = (max(low, at), high) if at < high else None
    last = day - timedelta(days=1)
    return Parts(raw, (start, min(end, last)) if start <= last else None)


def period_counts(conn: Connection, tz: ZoneInfo, start: date, end: date) -> Counts:
    counts = Counts()
    split = parts(conn, tz, start, end)
    if split.raw:
        raw_counts(conn, *split.raw, counts)
    if split.rolled:
        _rolled_counts(conn, *split.rolled, counts)
    return counts


def unique_users(conn: Connection, tz: ZoneInfo, start: date, end: date) -> int:
    """Distinct residents who sent a message: raw senders plus rolled-up presence rows."""
    split = parts(conn, tz, start, end)
    selects = []
    if split.raw:
        low, high = split.raw
        selects.append(
            select(Event.user_id).where(
                Event.created_at >= low, Event.created_at < high, Event.is_message.is_(True)
            )
        )
    if split.rolled:
        first, last = split.rolled
        selects.append(
            select(DailyUser.user_id).where(DailyUser.day >= first, DailyUser.day <= last)
        )
    if not selects:
        return 0
    both = (union(*selects) if len(selects) > 1 else selects[0].distinct()).subquery()
    return conn.execute(select(func.count()).select_from(both)).scalar_one()
