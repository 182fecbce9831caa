"""The outreach records: SQLAlchemy models and the few statements that write them.

Privacy: a resident's OpenID is stored in `followers` only (campaigns need it to send).
Every other table carries the pseudonymous `user_id`, a keyed hash of the OpenID.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    Boolean,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    false,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Follower(Base):
    """One resident who has written to or followed the account."""

    __tablename__ = "followers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(String(32), unique=True)
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True)
    scene: Mapped[str | None] = mapped_column(String(64))
    subscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The last message or event: WeChat allows customer-service messages for 48 hours after.
    last_interaction_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # True for a row made from an `openids:FILE` campaign audience (test OpenIDs) rather
    # than by WeChat: not a resident who followed or wrote. Cleared when they do write.
    imported: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Event(Base):
    """One inbound interaction, recorded once however often WeChat retries it."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # MsgId for messages; user+CreateTime+Event for events (WeChat's own retry identity).
    dedupe_key: Mapped[str] = mapped_column(String(96), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    user_id: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    is_message: Mapped[bool] = mapped_column(Boolean)
    is_question: Mapped[bool] = mapped_column(Boolean, default=False)
    matched: Mapped[bool | None] = mapped_column(Boolean)
    reply_kind: Mapped[str | None] = mapped_column(String(16))
    theme: Mapped[str | None] = mapped_column(String(32))
    entry_id: Mapped[str | None] = mapped_column(String(64))
    event_key: Mapped[str | None] = mapped_column(String(128))
    scene: Mapped[str | None] = mapped_column(String(64))


class UnansweredQuestion(Base):
    """A question the knowledge base could not answer, kept (without its sender) for staff."""

    __tablename__ = "unanswered_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64), unique=True)
    text: Mapped[str] = mapped_column(Text)
    count: Mapped[int] = mapped_column(Integer, default=1)
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class StaffUser(Base):
    """A staff member who may log in to the console."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Campaign(Base):
    """A legal-publicity push: what, to whom, when, and how far it got.

    Written by the CLI and the console (content, schedule, state changes) and by the
    campaign runner (progress and counts); `revision` grows with every change a front
    end makes, so the running scheduler notices it (scheduler/). Counts follow
    CONTRACT.md: `sent` accepted by WeChat, `skipped` refused for the 48-hour window or
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
    state: Mapped[str] = mapped_column(String(16), default="draft", index=True)
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


def now() -> datetime:
    return datetime.now(UTC)


def pseudonym(secret_key: str, openid: str) -> str:
    """The pseudonymous user id: a keyed hash, stable while the secret key is."""
    digest = hmac.new(secret_key.encode(), openid.encode(), hashlib.sha256).hexdigest()
    return digest[:32]


def make_engine(url: str) -> Engine:
    """The engine for `url`; SQLite gets its folder, WAL and a busy timeout for workers."""
    parsed = make_url(url)
    kwargs: dict = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs = {"connect_args": {"timeout": 15, "check_same_thread": False}}
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def _insert(engine: Engine, table):
    return (postgresql if engine.dialect.name == "postgresql" else sqlite).insert(table)


def record_interaction(
    engine: Engine,
    *,
    openid: str,
    user_id: str,
    dedupe_key: str,
    kind: str,
    is_message: bool,
    is_question: bool = False,
    matched: bool | None = None,
    reply_kind: str | None = None,
    theme: str | None = None,
    entry_id: str | None = None,
    event_key: str | None = None,
    scene: str | None = None,
    question: str | None = None,
    follow_change: str | None = None,
) -> bool:
    """Write one interaction and its side effects in one transaction.

    Returns False when `dedupe_key` was already recorded (a WeChat retry): nothing is
    written then. `follow_change` is "subscribe" or "unsubscribe" for those events.
    """
    at = now()
    with engine.begin() as conn:
        inserted = conn.execute(
            _insert(engine, Event)
            .values(
                dedupe_key=dedupe_key,
                created_at=at,
                user_id=user_id,
                kind=kind,
                is_message=is_message,
                is_question=is_question,
                matched=matched,
                reply_kind=reply_kind,
                theme=theme,
                entry_id=entry_id,
                event_key=event_key,
                scene=scene,
            )
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
        ).rowcount
        if not inserted:
            return False
        _touch_follower(conn, engine, openid, user_id, at, follow_change, scene)
        if question and is_question and not matched:
            _keep_unanswered(conn, engine, question, at)
    return True


def _touch_follower(conn, engine, openid, user_id, at, follow_change, scene) -> None:
    values = {"openid": openid, "user_id": user_id, "created_at": at, "last_interaction_at": at}
    update = {"last_interaction_at": at, "imported": False}
    if follow_change == "subscribe":
        values |= {"subscribed": True, "subscribed_at": at, "scene": scene}
        update |= {"subscribed": True, "subscribed_at": at, "unsubscribed_at": None}
        if scene:
            update["scene"] = scene
    elif follow_change == "unsubscribe":
        values |= {"subscribed": False, "unsubscribed_at": at}
        update |= {"subscribed": False, "unsubscribed_at": at}
    else:
        values["subscribed"] = True
    statement = _insert(engine, Follower).values(**values)
    conn.execute(statement.on_conflict_do_update(index_elements=["openid"], set_=update))


def _keep_unanswered(conn, engine, question: str, at: datetime) -> None:
    text = " ".join(question.split())[:500]
    digest = hashlib.sha256(text.encode()).hexdigest()
    statement = _insert(engine, UnansweredQuestion).values(
        text_hash=digest, text=text, count=1, first_seen=at, last_seen=at
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["text_hash"],
            set_={"count": UnansweredQuestion.count + 1, "last_seen": at},
        )
    )


@dataclass(frozen=True)
class MassJobReport:
    """WeChat's MASSSENDJOBFINISH event: how a mass send (`msg_id`) went."""

    msg_id: str
    status: str
    total: int
    filtered: int
    sent: int
    errors: int


def record_mass_job_finish(engine: Engine, report: MassJobReport) -> bool:
    """Fill in the campaign of a finished mass send; False when no campaign has `msg_id`.

    WeChat's FilterCount is the number it went on to send to after its own filters, so
    `skipped` is TotalCount - FilterCount. Values are set, not added: WeChat's retries
    of the event change nothing. Status is "send success", "send fail" or "err(num)".
    """
    ok = report.status.strip().lower() == "send success"
    values = {
        "recipients": report.total,
        "filtered": report.filtered,
        "sent": report.sent,
        "failed": report.errors,
        "skipped": max(report.total - report.filtered, 0),
        "state": "sent" if ok else "failed",
        "error": None if ok else f"WeChat reported the mass send as {report.status!r}",
        "finished_at": now(),
    }
    with engine.begin() as conn:
        done = conn.execute(
            update(Campaign)
            .where(
                Campaign.msg_id == report.msg_id, Campaign.state.in_(("sending", "sent", "failed"))
            )
            .values(**values)
        ).rowcount
    return bool(done)


def top_unanswered(engine: Engine, limit: int = 50) -> list[UnansweredQuestion]:
    """The most repeated unanswered questions, for staff growing the knowledge base."""
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        query = select(UnansweredQuestion).order_by(
            UnansweredQuestion.count.desc(), UnansweredQuestion.last_seen.desc()
        )
        return list(session.scalars(query.limit(limit)))


def database_answers(engine: Engine) -> bool:
    """True when the database answers a trivial query (for /healthz)."""
    try:
        with engine.connect() as conn:
            conn.execute(select(func.count()).select_from(Follower.__table__).limit(1))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not healthy", reported as 503
        return False
