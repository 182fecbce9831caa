"""The figures' own tables: offline activities, and what the roll-up keeps of old events.

bot/figures/rollup.py writes the daily tables; bot/figures reads them beside the raw
events, so a figure does not change when its events are rolled up.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, PrimaryKeyConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class Activity(Base):
    """An offline publicity activity staff record (market-day stall, lecture, school visit…).

    `scene` is the parameter QR code printed for it, so followers it brought are counted
    from the subscribe events carrying that scene (bot/stats.py).
    """

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    held_on: Mapped[date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    place: Mapped[str] = mapped_column(String(200))
    theme: Mapped[str | None] = mapped_column(String(32))
    attendance: Mapped[int | None] = mapped_column(Integer)
    scene: Mapped[str | None] = mapped_column(String(64), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DailyCount(Base):
    """A rolled-up count of one local day: raw events past the retention become these rows.

    `metric` names what is counted (messages, answered, theme, scene, …) and `key` the
    group within it ('' when there is none); bot/rollup.py writes them, bot/stats.py adds
    them to what the remaining raw events give.
    """

    __tablename__ = "daily_counts"
    __table_args__ = (PrimaryKeyConstraint("day", "metric", "key"),)

    day: Mapped[date] = mapped_column(Date)
    metric: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(128), default="")
    count: Mapped[int] = mapped_column(Integer)


class DailyUser(Base):
    """That a pseudonymous resident sent a message on a local day (rolled-up presence).

    Distinct residents over a week, month or year cannot be summed from daily counts;
    these rows keep them exact after the raw events are gone, and hold nothing else.
    """

    __tablename__ = "daily_users"
    __table_args__ = (PrimaryKeyConstraint("day", "user_id"),)

    day: Mapped[date] = mapped_column(Date)
    user_id: Mapped[str] = mapped_column(String(32))


class UnansweredDaily(Base):
    """How often an unanswered question was asked on a local day (no sender), so the
    console lists the top unanswered questions of any period."""

    __tablename__ = "unanswered_daily"
    __table_args__ = (PrimaryKeyConstraint("text_hash", "day"),)

    text_hash: Mapped[str] = mapped_column(ForeignKey("unanswered_questions.text_hash"))
    day: Mapped[date] = mapped_column(Date, index=True)
    count: Mapped[int] = mapped_column(Integer)


class RollupState(Base):
    """How far the roll-up has aggregated: one row (id 1).

    Local days before `aggregated_day` are read from `daily_counts` and `daily_users`;
    raw events from `aggregated_at` (that day's local midnight, UTC) on are read from
    `events`. Older raw events may remain until the retention deletes them; they are
    then no longer read for counts.
    """

    __tablename__ = "rollup_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    aggregated_day: Mapped[date] = mapped_column(Date)
    aggregated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
