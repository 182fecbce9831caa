"""The outreach records: SQLAlchemy models and the few statements that write them.

Privacy: a resident's OpenID is stored in `followers` only (campaigns need it to send).
Every other table carries the pseudonymous `user_id`, a keyed hash of the OpenID.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    select,
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
    """How often an unanswered question was asked on a local day (no sender)."""

    __tablename__ = "unanswered_daily"
    __table_args__ = (PrimaryKeyConstraint("question_id", "day"),)

    question_id: Mapped[int] = mapped_column(ForeignKey("unanswered_questions.id"))
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
    tz: tzinfo = UTC,
) -> bool:
    """Write one interaction and its side effects in one transaction.

    Returns False when `dedupe_key` was already recorded (a WeChat retry): nothing is
    written then. `follow_change` is "subscribe" or "unsubscribe" for those events.
    `tz` is the statistics time zone: an unanswered question is also counted on its
    local day, so the console can list the top unanswered questions of any period.
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
            _keep_unanswered(conn, engine, question, at, tz)
    return True


def _touch_follower(conn, engine, openid, user_id, at, follow_change, scene) -> None:
    values = {"openid": openid, "user_id": user_id, "created_at": at, "last_interaction_at": at}
    update = {"last_interaction_at": at}
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


def _keep_unanswered(conn, engine, question: str, at: datetime, tz: tzinfo) -> None:
    text = " ".join(question.split())[:500]
    digest = hashlib.sha256(text.encode()).hexdigest()
    statement = _insert(engine, UnansweredQuestion).values(
        text_hash=digest, text=text, count=1, first_seen=at, last_seen=at
    )
    question_id = conn.execute(
        statement.on_conflict_do_update(
            index_elements=["text_hash"],
            set_={"count": UnansweredQuestion.count + 1, "last_seen": at},
        ).returning(UnansweredQuestion.id)
    ).scalar_one()
    daily = _insert(engine, UnansweredDaily).values(
        question_id=question_id, day=at.astimezone(tz).date(), count=1
    )
    conn.execute(
        daily.on_conflict_do_update(
            index_elements=["question_id", "day"], set_={"count": UnansweredDaily.count + 1}
        )
    )


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
