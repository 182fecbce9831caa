"""The roll-up: raw events past the retention become daily figures, then are deleted.

What is kept of a local day's events, so that every figure of every period stays what it
was (bot/stats.py adds these rows to what the remaining raw events give):

- `daily_counts`: the day's counts per metric and key, from the same `metric_keys` the
  live figures use;
- `daily_users`: one row per pseudonymous resident who sent a message that day. Distinct
  residents over a week, month or year cannot be summed from daily counts, so this
  presence stays (without kind, time or content);
- `campaign_engagement`: a campaign's 72-hour engagement, computed from the raw events
  and frozen before any event of its window is deleted.

One short transaction per day: the webhook keeps writing while a year is rolled up, and
a roll-up stopped halfway resumes where it stopped (a rolled-up day has no events left).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, delete, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from . import stats
from .records import Campaign, CampaignEngagement, CampaignRecipient, DailyCount, DailyUser, Event

MIN_RETENTION_DAYS = 4  # the 72-hour engagement window must have closed


@dataclass
class RollupReport:
    cutoff: date  # days before this one hold no raw events any more
    days: int
    events: int
    campaigns_frozen: int


def _insert(engine: Engine, table):
    return (postgresql if engine.dialect.name == "postgresql" else sqlite).insert(table)


def rollup(
    engine: Engine, tz: ZoneInfo, retention_days: int, now: datetime | None = None
) -> RollupReport:
    """Roll up and delete the raw events of local days older than `retention_days`."""
    if retention_days < MIN_RETENTION_DAYS:
        raise ValueError(f"retention_days must be at least {MIN_RETENTION_DAYS}")
    now = now or datetime.now(UTC)
    cutoff_day = now.astimezone(tz).date() - timedelta(days=retention_days)
    cutoff_day, frozen = _freeze_engagement(engine, tz, cutoff_day, now)
    cutoff = _midnight(cutoff_day, tz)
    days = events = 0
    while True:
        with engine.connect() as conn:
            oldest = conn.execute(
                select(func.min(Event.created_at)).where(Event.created_at < cutoff)
            ).scalar_one()
        if oldest is None:
            break
        day = stats._aware(oldest).astimezone(tz).date()
        events += _roll_day(engine, tz, day)
        days += 1
    return RollupReport(cutoff=cutoff_day, days=days, events=events, campaigns_frozen=frozen)


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tz).astimezone(UTC)


def _freeze_engagement(engine: Engine, tz: ZoneInfo, cutoff_day: date, now: datetime):
    """Freeze the engagement of campaigns whose window starts before the cutoff.

    A window still open (only with a very short retention) moves the cutoff back to the
    campaign's day, so none of its events go before its figure is final.
    """
    frozen = 0
    began = func.coalesce(Campaign.started_at, Campaign.finished_at)
    with engine.begin() as conn:
        candidates = (
            Session(bind=conn)
            .scalars(
                select(Campaign)
                .outerjoin(CampaignEngagement, CampaignEngagement.campaign_id == Campaign.id)
                .where(
                    began.is_not(None),
                    began < _midnight(cutoff_day, tz),
                    CampaignEngagement.campaign_id.is_(None),
                )
                .order_by(began)
            )
            .all()
        )
        for campaign in candidates:
            start = stats._aware(campaign.started_at or campaign.finished_at)
            end = _window_end(conn, campaign, start)
            if end > now:
                cutoff_day = min(cutoff_day, start.astimezone(tz).date())
                continue
            conn.execute(
                _insert(engine, CampaignEngagement)
                .values(
                    campaign_id=campaign.id,
                    engaged=stats.engagement(conn, campaign),
                    window_start=start,
                    window_end=end,
                    frozen_at=now,
                )
                .on_conflict_do_nothing(index_elements=["campaign_id"])
            )
            frozen += 1
    return cutoff_day, frozen


def _window_end(conn, campaign: Campaign, start: datetime) -> datetime:
    last = start
    if not stats.is_mass_send(campaign.audience):
        latest = conn.execute(
            select(func.max(CampaignRecipient.sent_at)).where(
                CampaignRecipient.campaign_id == campaign.id
            )
        ).scalar_one()
        if latest is not None:
            last = max(last, stats._aware(latest))
    return last + stats.ENGAGEMENT_WINDOW


def _roll_day(engine: Engine, tz: ZoneInfo, day: date) -> int:
    """Keep one local day's figures and delete its raw events, in one transaction."""
    low, high = _midnight(day, tz), _midnight(day + timedelta(days=1), tz)
    in_day = (Event.created_at >= low, Event.created_at < high)
    with engine.begin() as conn:
        counts = stats.Counts()
        stats._raw_counts(conn, low, high, counts)
        rows = [
            {"day": day, "metric": metric, "key": key, "count": count}
            for metric, keyed in counts.data.items()
            for key, count in keyed.items()
            if count
        ]
        if rows:
            statement = _insert(engine, DailyCount).values(rows)
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=["day", "metric", "key"],
                    set_={"count": DailyCount.count + statement.excluded.count},
                )
            )
        senders = (
            select(literal(day, DailyUser.day.type), Event.user_id)
            .where(*in_day, Event.is_message.is_(True))
            .distinct()
        )
        conn.execute(
            _insert(engine, DailyUser)
            .from_select(["day", "user_id"], senders)
            .on_conflict_do_nothing(index_elements=["day", "user_id"])
        )
        return conn.execute(delete(Event).where(*in_day)).rowcount
