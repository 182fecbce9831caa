"""The campaigns' tables: campaigns, their recipients, the scheduler's lease and job store,
and each campaign's engagement frozen by the roll-up.

Declared on bot's Base, so one schema (bot/records/migrations) creates every table.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.records import Base

from .states import State


class Campaign(Base):
    """A legal-publicity push: what, to whom, when, and how far it got.

    Written by the CLI and the console (content, schedule, state changes) and by the
    campaign runner (progress and counts); `revision` grows with every change a front
    end makes, so the running scheduler notices it (scheduler/). Counts follow
    README, Campaigns: `sent` accepted by WeChat, `skipped` refused for the 48-hour window or
    unsubscription, `failed` the rest; `filtered` is WeChat's FilterCount of a mass send.
    """

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    theme: Mapped[str] = mapped_column(String(32))
    content_kind: Mapped[str] = mapped_column(String(16))  # text | article | entries
    content: Mapped[str] = mapped_column(Text)  # JSON of the content kind
    audience: Mapped[str] = mapped_column(String(300))  # all | tag:ID | active48h | openids:FILE
    schedule_kind: Mapped[str | None] = mapped_column(String(16))  # at | calendar | cron
    schedule: Mapped[str | None] = mapped_column(String(120))
    scheduled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(16), default=State.DRAFT.value, index=True)
    error: Mapped[str | None] = mapped_column(Text)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    filtered: Mapped[int | None] = mapped_column(Integer)
    msg_id: Mapped[str | None] = mapped_column(String(32), index=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    presumed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    plan_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    sender: Mapped[str | None] = mapped_column(String(128))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("parent_id", "scheduled_at"),)


class CampaignRecipient(Base):
    """One resident's copy of a customer-service campaign: the send checkpoint.

    It points at the follower (whose row alone holds the OpenID), so a resumed send
    knows exactly who has had the message and who has not.
    """

    __tablename__ = "campaign_recipients"
    __table_args__ = (UniqueConstraint("campaign_id", "follower_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    follower_id: Mapped[int] = mapped_column(ForeignKey("followers.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    errcode: Mapped[int | None] = mapped_column(Integer)
    attempted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SchedulerLease(Base):
    """Who runs the campaign scheduler, when there is no Redis to hold the lock."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SchedulerJob(Base):
    """APScheduler's SQLAlchemyJobStore table, created here so migrations own the schema.

    The columns are APScheduler 3's own (apscheduler/jobstores/sqlalchemy.py); only the
    running scheduler writes them (scheduler/runner.py says why).
    """

    __tablename__ = "apscheduler_jobs"

    id: Mapped[str] = mapped_column(String(191), primary_key=True)
    next_run_time: Mapped[float | None] = mapped_column(Float(25), index=True)
    job_state: Mapped[bytes] = mapped_column(LargeBinary)


class CampaignEngagement(Base):
    """A campaign's engagement frozen by the roll-up once its 72-hour window had closed.

    The window's raw events are deleted after the roll-up; the distinct residents who
    interacted in it cannot be rebuilt from daily rows, so the figure is kept here.
    """

    __tablename__ = "campaign_engagement"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    engaged: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    window_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    frozen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
