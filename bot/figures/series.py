"""The figures of a period per day, ISO week (Monday first), month or year.

The first and last rows hold only the period's days. Distinct residents are exact per
bucket: distinct (day, resident) pairs from the raw events and the roll-up's presence
rows, counted per bucket.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, func, select, union

from ..records import DailyCount, DailyUser, Event
from .counts import (
    GRANULARITIES,
    Counts,
    as_date,
    bucket_label,
    bucket_start,
    local_day,
    parts,
    raw_counts_by_day,
)
from .labels import BASE_METRICS, FIGURES, SERIES_FIELDS

DAILY = tuple(f for f in FIGURES if f.daily)


def series(engine: Engine, tz: ZoneInfo, start: date, end: date, granularity: str = "day"):
    """One row per day, week, month or year of the period (the first and last may be
    partial: they hold only the period's days)."""
    if granularity not in GRANULARITIES:
        raise ValueError(f"granularity must be one of {', '.join(GRANULARITIES)}")
    with engine.connect() as conn:
        split = parts(conn, tz, start, end)
        days = raw_counts_by_day(conn, tz, *split.raw) if split.raw else defaultdict(Counts)
        if split.rolled:
            first, last = split.rolled
            rolled = select(DailyCount.day, DailyCount.metric, func.sum(DailyCount.count)).where(
                DailyCount.day >= first,
                DailyCount.day <= last,
                DailyCount.metric.in_(BASE_METRICS),
            )
            for day, metric, count in conn.execute(
                rolled.group_by(DailyCount.day, DailyCount.metric)
            ):
                days[as_date(day)].add(metric, "", int(count))
        users = _users_by_bucket(conn, tz, start, end, granularity)
    buckets: dict[date, Counts] = {}
    day = start
    while day <= end:
        buckets.setdefault(bucket_start(day, granularity), Counts())
        day += timedelta(days=1)
    for day, counts in days.items():
        target = buckets[bucket_start(day, granularity)]
        for metric in BASE_METRICS:
            target.add(metric, "", counts.total(metric))
    rows = []
    for first, counts in sorted(buckets.items()):
        row = {"start": max(first, start).isoformat(), "label": bucket_label(first, granularity)}
        row.update({f.field: counts.total(f.metric) for f in DAILY if f.metric})
        row["unique_users"] = users.get(first, 0)
        row["net_followers"] = row["subscribes"] - row["unsubscribes"]
        rows.append({key: row[key] for key in ("start", "label", *SERIES_FIELDS)})
    return rows


def _users_by_bucket(conn, tz, start, end, granularity) -> dict[date, int]:
    """Distinct senders per bucket, exact: distinct (day, user) pairs, then per bucket."""
    split = parts(conn, tz, start, end)
    selects = []
    if split.raw:
        low, high = split.raw
        day = local_day(conn, Event.created_at, tz, low, high).label("day")
        selects.append(
            select(day, Event.user_id).where(
                Event.created_at >= low, Event.created_at < high, Event.is_message.is_(True)
            )
        )
    if split.rolled:
        first, last = split.rolled
        selects.append(
            select(DailyUser.day, DailyUser.user_id).where(
                DailyUser.day >= first, DailyUser.day <= last
            )
        )
    if not selects:
        return {}
    pairs = (union(*selects) if len(selects) > 1 else selects[0]).subquery()
    bucket = _bucket_sql(conn, pairs.c.day, granularity).label("bucket")
    per_bucket = select(bucket, pairs.c.user_id).distinct().subquery()
    query = select(per_bucket.c.bucket, func.count()).group_by(per_bucket.c.bucket)
    return {as_date(b): n for b, n in conn.execute(query)}


def _bucket_sql(conn: Connection, day, granularity: str):
    if conn.dialect.name == "postgresql":
        if granularity == "day":
            return day
        return func.date(func.date_trunc(granularity, day))
    if granularity == "week":
        return func.date(day, "-6 days", "weekday 1")
    if granularity == "month":
        return func.date(day, "start of month")
    if granularity == "year":
        return func.date(day, "start of year")
    return func.date(day)
