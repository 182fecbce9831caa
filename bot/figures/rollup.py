"""The roll-up: closed days become daily figures; raw events past the retention go.

Two steps, run nightly (`legalbot stats rollup`, or `rollup()` from a scheduler):

1. **Aggregate** every closed local day (before today, with an hour's grace for
   in-flight writes) into `daily_counts` (per metric and key, from the same
   `metric_keys` the live figures use) and `daily_users` (one row per pseudonymous
   resident who wrote that day: distinct residents over a week, month or year cannot be
   summed from daily counts). The watermark `rollup_state` then moves past the day:
   figures read days before it from these tables and raw events only after it, so a
   year's figures cost a few hundred small rows instead of a million events.
2. **Delete** the raw events of days older than `stats.retention_days`, once aggregated.
   What plug-ins count from raw events is kept first (scheduler/figures.py freezes each
   campaign's 72-hour engagement into `campaign_engagement`), since they are about to go.

Every figure of every period is the same before and after. One short transaction per
day: the webhook keeps writing meanwhile, and an interrupted roll-up resumes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, delete, func, literal, select

from .. import plugins
from ..records import DailyCount, DailyUser, Event, RollupState, aware, upsert
from .counts import Counts, as_date, midnight, raw_counts

log = logging.getLogger(__name__)

MIN_RETENTION_DAYS = 4  # the 72-hour engagement window must have closed
GRACE = timedelta(hours=1)  # a day is closed an hour after its midnight
DELETE_BATCH = 10_000


@dataclass
class RollupReport:
    aggregated_days: int  # days with events aggregated by this run
    aggregated_until: date | None  # days before this one are aggregated
    deleted_events: int
    deleted_before: date | None  # raw events of days before this one are gone
    campaigns_frozen: int


def rollup(
    engine: Engine, tz: ZoneInfo, retention_days: int = 0, now: datetime | None = None
) -> RollupReport:
    """Aggregate closed days; with `retention_days` (>= 4; 0 keeps them), delete raw
    events of days older than that."""
    if retention_days and retention_days < MIN_RETENTION_DAYS:
        raise ValueError(f"retention_days must be 0 or at least {MIN_RETENTION_DAYS}")
    now = now or datetime.now(UTC)
    delete_before = None
    if retention_days:
        delete_before = now.astimezone(tz).date() - timedelta(days=retention_days)
    delete_before, frozen = _freeze(engine, tz, delete_before, now)
    days, until = _aggregate(engine, tz, (now - GRACE).astimezone(tz).date())
    deleted = 0
    if delete_before is not None and until is not None:
        delete_before = min(delete_before, until)
        deleted = _delete_raw(engine, midnight(delete_before, tz))
    return RollupReport(days, until, deleted, delete_before, frozen)


def _freeze(engine: Engine, tz: ZoneInfo, delete_before: date | None, now: datetime):
    """What the `legalbot.figures` plug-ins keep before raw events go (scheduler/: each
    campaign's engagement); a plug-in may move the deletion day back."""
    frozen = 0
    for provider in plugins.load(plugins.FIGURES):
        delete_before, count = provider.freeze(engine, tz, delete_before, now)
        frozen += count
    return delete_before, frozen


def _watermark(conn) -> tuple[date, datetime] | None:
    row = conn.execute(
        select(RollupState.aggregated_day, RollupState.aggregated_at).where(RollupState.id == 1)
    ).first()
    return (as_date(row[0]), aware(row[1])) if row else None


def _aggregate(engine: Engine, tz: ZoneInfo, until: date) -> tuple[int, date | None]:
    """Aggregate each day with events from the watermark up to `until` (exclusive)."""
    days = 0
    while True:
        with engine.connect() as conn:
            mark = _watermark(conn)
            query = select(func.min(Event.created_at))
            if mark:
                query = query.where(Event.created_at >= mark[1])
            oldest = conn.execute(query).scalar_one()
        if mark and mark[0] >= until:
            return days, mark[0]
        if oldest is None or aware(oldest).astimezone(tz).date() >= until:
            with engine.begin() as conn:  # only empty days are left before `until`
                _lock(conn)
                _move_watermark(conn, engine, tz, until)
            return days, until
        days += _aggregate_day(engine, tz, aware(oldest).astimezone(tz).date())


def _lock(conn) -> None:
    """Serialise roll-ups (cron and a hand-run one at once): each would add the same day's
    counts. Taken first in every transaction that moves the watermark; a roll-up that
    waited then sees the watermark the other left."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7406112)")
    else:  # a write as the first statement takes SQLite's write lock for the transaction
        conn.execute(RollupState.__table__.update().where(RollupState.id == 1).values(id=1))


def _aggregate_day(engine: Engine, tz: ZoneInfo, day: date) -> int:
    """Keep one local day's figures and move the watermark past it, in one transaction;
    0 when another roll-up did it meanwhile, else 1."""
    low, high = midnight(day, tz), midnight(day + timedelta(days=1), tz)
    in_day = (Event.created_at >= low, Event.created_at < high)
    with engine.begin() as conn:
        _lock(conn)
        mark = _watermark(conn)
        if mark and mark[0] > day:
            return 0
        counts = Counts()
        raw_counts(conn, low, high, counts)
        rows = [
            {"day": day, "metric": metric, "key": key, "count": count}
            for metric, keyed in counts.data.items()
            for key, count in keyed.items()
            if count
        ]
        if rows:  # executemany of one cached statement, not a new multi-row statement a day
            statement = upsert(engine, DailyCount)
            add_counts = statement.on_conflict_do_update(
                index_elements=["day", "metric", "key"],
                set_={"count": DailyCount.count + statement.excluded.count},
            )
            conn.execute(add_counts, rows)
        senders = (
            select(literal(day, DailyUser.day.type), Event.user_id)
            .where(*in_day, Event.is_message.is_(True))
            .distinct()
        )
        conn.execute(
            upsert(engine, DailyUser)
            .from_select(["day", "user_id"], senders)
            .on_conflict_do_nothing(index_elements=["day", "user_id"])
        )
        _move_watermark(conn, engine, tz, day + timedelta(days=1))
    return 1


def _move_watermark(conn, engine: Engine, tz: ZoneInfo, day: date) -> None:
    """Days before `day` are aggregated; never moves back (a changed time zone cannot
    make an instant be counted twice)."""
    mark = _watermark(conn)
    if mark and mark[0] >= day:
        return
    at = midnight(day, tz)
    if mark:
        at = max(at, mark[1])
    values = {"aggregated_day": day, "aggregated_at": at, "updated_at": datetime.now(UTC)}
    statement = upsert(engine, RollupState).values(id=1, **values)
    conn.execute(statement.on_conflict_do_update(index_elements=["id"], set_=values))


def _delete_raw(engine: Engine, cut: datetime) -> int:
    """Delete aggregated raw events before `cut`, at most DELETE_BATCH per transaction:
    short enough that the webhook's writer hardly waits, few enough commits to be quick."""
    deleted = 0
    while True:
        oldest = select(Event.id).where(Event.created_at < cut).limit(DELETE_BATCH)
        with engine.begin() as conn:
            count = conn.execute(
                delete(Event).where(Event.id.in_(oldest.scalar_subquery()))
            ).rowcount
        deleted += count
        if count < DELETE_BATCH:
            return deleted


# ---- nightly, inside `legalbot serve` ------------------------------------------------

NIGHTLY = {"hour": 2, "minute": 30}  # local time, after the day closed and before work


class Nightly:
    """The roll-up at 02:30 local time every night, in a background thread.

    `legalbot serve` starts it (entry point `legalbot.embedded`), so the embedded
    defaults keep a year's figures fast without a cron job; with gunicorn workers run
    `legalbot stats rollup` from cron instead. Roll-ups serialise, so both at once is safe.
    """

    def __init__(self, config) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.cron import CronTrigger

        from ..records import make_engine

        self.config = config
        self.engine = make_engine(config.database_url)
        self.scheduler = BackgroundScheduler(timezone=config.tz)
        self.job = self.scheduler.add_job(
            self.run,
            CronTrigger(**NIGHTLY, timezone=config.tz),
            id="stats-rollup",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=3600,
        )

    def run(self) -> RollupReport | None:
        """One roll-up; failures are logged (the next night tries again), never raised."""
        try:
            report = rollup(self.engine, self.config.tz, self.config.stats.retention_days)
        except Exception:  # noqa: BLE001 - a background job must not die of one bad night
            log.exception("nightly statistics roll-up failed")
            return None
        log.info("nightly statistics roll-up: %s", report)
        forget_personal(self.engine, self.config)
        return report

    def start(self) -> Nightly:
        self.scheduler.start()
        return self

    def shutdown(self) -> None:
        self.scheduler.shutdown(wait=False)
        self.engine.dispose()


def forget_personal(engine: Engine, config) -> int | None:
    """The mediation cases' phone numbers and descriptions past `mediation.keep_days`
    after closing, deleted (bot/mediation/register.py `forget`); None when it failed."""
    from ..mediation import forget

    try:
        cleared = forget(engine, config.mediation.keep_days, datetime.now(config.tz).date())
    except Exception:  # noqa: BLE001 - logged; the next night tries again
        log.exception("mediation personal fields not deleted")
        return None
    if cleared:
        log.info("mediation: personal fields of %d closed cases deleted", cleared)
    return cleared


def start_embedded(config) -> Nightly:
    """The `legalbot.embedded` entry point."""
    return Nightly(config).start()
