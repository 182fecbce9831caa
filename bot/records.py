"""The outreach records: SQLAlchemy models and the few statements that write them.

Privacy: a resident's OpenID is stored in `followers` only (campaigns need it to send).
Every other table carries the pseudonymous `user_id`, a keyed hash of the OpenID.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path

from sqlalchemy import (
    Boolean,
    Connection,
    Date,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
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
    # Every read of user_id is bounded by time (bot/migrations/versions/0004_…).
    __table_args__ = (Index("ix_events_created_at_user_id", "created_at", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # MsgId for messages; user+CreateTime+Event for events (WeChat's own retry identity).
    dedupe_key: Mapped[str] = mapped_column(String(96), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    user_id: Mapped[str] = mapped_column(String(32))
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


@functools.lru_cache(maxsize=4096)  # a resident writes several messages in a row
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


def upsert(engine: Engine, table):
    """An INSERT that takes ON CONFLICT clauses, in the dialect of `engine`."""
    return (postgresql if engine.dialect.name == "postgresql" else sqlite).insert(table)


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs 3x, per message
class Interaction:
    """One inbound interaction as it will be written: an event row and its side effects.

    Built once per message and never changed afterwards.

    `follow_change` is "subscribe" or "unsubscribe" for those events; `question` is the
    text of an unanswered question, kept (without its sender) for staff.
    """

    openid: str
    user_id: str
    dedupe_key: str
    kind: str
    is_message: bool
    at: datetime = field(default_factory=lambda: now())
    is_question: bool = False
    matched: bool | None = None
    reply_kind: str | None = None
    theme: str | None = None
    entry_id: str | None = None
    event_key: str | None = None
    scene: str | None = None
    question: str | None = None
    follow_change: str | None = None

    def event_row(self) -> dict:
        return {
            "dedupe_key": self.dedupe_key,
            "created_at": self.at,
            "user_id": self.user_id,
            "kind": self.kind,
            "is_message": self.is_message,
            "is_question": self.is_question,
            "matched": self.matched,
            "reply_kind": self.reply_kind,
            "theme": self.theme,
            "entry_id": self.entry_id,
            "event_key": self.event_key,
            "scene": self.scene,
        }


def record_interaction(engine: Engine, tz: tzinfo = UTC, **fields) -> bool:
    """Write one interaction; False when its dedupe key was already recorded (a retry)."""
    item = Interaction(**fields)
    return item.dedupe_key in record_batch(engine, [item], tz)


def record_batch(engine: Engine, items: list[Interaction], tz: tzinfo = UTC) -> set[str]:
    """Write interactions and their side effects in one transaction (a group commit).

    Returns the dedupe keys that were new. A key already in the database (a WeChat
    retry that reached another process) writes nothing, so it moves no follower and
    counts no unanswered question twice. This runs for every message, so it speaks
    the driver's SQL directly (see `_HotPath`): the same statements through SQLAlchemy's
    compiler cost four times as much.
    """
    with engine.connect() as conn:
        return write_batch(conn, items, tz)


class RecentFollowers:
    """Followers whose last interaction one writer stored less than `every` seconds ago.

    Every message moves its follower's `last_interaction_at` (the 48-hour window for
    customer-service messages), and that upsert, index included, cost as much as the
    event row itself. A resident writes several messages in a few minutes, so a writer
    stores the time at most once per `every` seconds per follower: the stored time may
    be up to that much early, which only ever closes the window sooner, never later.
    Subscribe and unsubscribe are always written. One per writer thread; not shared.
    """

    def __init__(self, every: float = 60.0) -> None:
        self.every = every
        self._stored: dict[str, float] = {}
        self._limit = 4096  # the map is pruned when it grows past this

    def fresh(self, openid: str, now: float) -> bool:
        """True when `openid`'s time was stored less than `every` seconds ago."""
        stored = self._stored.get(openid)
        return stored is not None and now - stored < self.every

    def stored(self, openids: Iterable[str], now: float) -> None:
        for openid in openids:
            self._stored[openid] = now
        if len(self._stored) > self._limit:  # forget the stale ones, so the map stays small
            self._stored = {o: t for o, t in self._stored.items() if now - t < self.every}
            # Not again before it has doubled: many residents active at once would
            # otherwise make every batch copy the map.
            self._limit = max(4096, 2 * len(self._stored))


def write_batch(
    conn: Connection,
    items: list[Interaction],
    tz: tzinfo = UTC,
    recent: RecentFollowers | None = None,
) -> set[str]:
    """`record_batch` on a connection the caller holds (the recorder's own), committed.

    With `recent`, a follower whose time this writer stored a moment ago is not
    written again (see RecentFollowers).
    """
    if not items:
        return set()
    now = time.monotonic()
    sql = _hot_path(conn.dialect)
    with conn.begin():
        fresh = sql.new_events(conn, items)
        new, seen = [], set()
        for item in items:  # a key twice in one batch is written once, like a retry
            if item.dedupe_key in fresh and item.dedupe_key not in seen:
                seen.add(item.dedupe_key)
                new.append(item)
        written: list[str] = []
        for change, rows in _follower_rows(new).items():
            if change is None and recent is not None:
                rows = [r for r in rows if not recent.fresh(r["openid"], now)]
            if rows:
                conn.exec_driver_sql(sql.follower[change], [sql.follower_params(r) for r in rows])
                written += [r["openid"] for r in rows]
        unanswered = _unanswered_rows([i for i in new if i.is_question and not i.matched])
        if unanswered:
            conn.exec_driver_sql(sql.unanswered, [sql.unanswered_params(r) for r in unanswered])
            # Also per local day of the statistics time zone (`tz`), for any period's top list.
            daily = _unanswered_days([i for i in new if i.is_question and not i.matched], tz)
            conn.exec_driver_sql(sql.unanswered_daily, [sql.daily_params(r) for r in daily])
    if recent is not None:
        recent.stored(written, now)
    return seen


# The events table's columns as the writer fills them, with their PostgreSQL types.
_EVENT_COLUMNS = {
    "dedupe_key": "varchar",
    "created_at": "timestamptz",
    "user_id": "varchar",
    "kind": "varchar",
    "is_message": "boolean",
    "is_question": "boolean",
    "matched": "boolean",
    "reply_kind": "varchar",
    "theme": "varchar",
    "entry_id": "varchar",
    "event_key": "varchar",
    "scene": "varchar",
}


class _HotPath:
    """The statements of `record_batch` in the driver's own SQL and parameter style.

    `ON CONFLICT … DO NOTHING/UPDATE` and `RETURNING` read the same on SQLite (3.35+)
    and PostgreSQL; only the placeholder and the way a datetime is bound differ, and
    the datetime is bound by SQLAlchemy's own processor, so rows read back as if the
    ORM had written them. tests/test_records.py checks both databases.
    """

    def __init__(self, dialect) -> None:
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self._sqlite = dialect.name == "sqlite"
        bind = DateTime(timezone=True).dialect_impl(dialect).bind_processor(dialect)
        self._at = bind or (lambda value: value)
        day = Date().dialect_impl(dialect).bind_processor(dialect)
        self._day = day or (lambda value: value)

        def insert(table: str, columns: str, conflict: str) -> str:
            marks = ", ".join([mark] * len(columns.split(",")))
            return f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT {conflict}"

        self._mark = mark
        follower = insert(
            "followers",
            "openid, user_id, subscribed, scene, subscribed_at, unsubscribed_at, "
            "last_interaction_at, created_at",
            # A follower first known from an OpenID file (campaign testing) who writes
            # is a real follower from now on.
            "(openid) DO UPDATE SET last_interaction_at = excluded.last_interaction_at, "
            "imported = FALSE",
        )
        self.follower = {
            None: follower,
            "subscribe": follower + ", subscribed = excluded.subscribed, "
            "subscribed_at = excluded.subscribed_at, unsubscribed_at = NULL, "
            "scene = COALESCE(excluded.scene, followers.scene)",
            "unsubscribe": follower + ", subscribed = excluded.subscribed, "
            "unsubscribed_at = excluded.unsubscribed_at",
        }
        self.unanswered = insert(
            "unanswered_questions",
            "text_hash, text, count, first_seen, last_seen",
            "(text_hash) DO UPDATE SET count = unanswered_questions.count + excluded.count, "
            "last_seen = excluded.last_seen",
        )
        self.unanswered_daily = insert(
            "unanswered_daily",
            "text_hash, day, count",
            "(text_hash, day) DO UPDATE SET count = unanswered_daily.count + excluded.count",
        )

    def new_events(self, conn: Connection, items: list[Interaction]) -> set[str]:
        """Insert every event row in one statement; the dedupe keys that were new.

        PostgreSQL says which with RETURNING, in the same round trip. SQLite hands
        RETURNING rows back one step at a time and lets go of the GIL around each,
        which under load costs the request threads more than the rows themselves; so
        there one SELECT finds the keys already there. The writers of the worker
        processes take turns on a file lock (bot/recorder.py), so none of them adds
        a key between that SELECT and the INSERT.
        """
        if not self._sqlite:
            return set(conn.exec_driver_sql(self._pg_events, self._columns(items)).scalars())
        keys = list({item.dedupe_key: None for item in items})
        marks = ", ".join([self._mark] * len(keys))
        # Read to the end before the INSERT: SQLite steps a SELECT lazily, and the rows
        # still to come would include the ones just inserted.
        known = set(
            conn.exec_driver_sql(
                f"SELECT dedupe_key FROM events WHERE dedupe_key IN ({marks})", tuple(keys)
            ).scalars()
        )
        row = "(" + ", ".join([self._mark] * len(_EVENT_COLUMNS)) + ")"
        conn.exec_driver_sql(
            f"INSERT INTO events ({', '.join(_EVENT_COLUMNS)}) VALUES "
            + ", ".join([row] * len(items))
            + " ON CONFLICT (dedupe_key) DO NOTHING",
            tuple(value for item in self._rows(items) for value in item),
        )
        return set(keys) - known

    # PostgreSQL takes the batch as one array per column, unnested into rows: the
    # statement stays short, so psycopg parses it once and caches it, where a VALUES
    # list of a few thousand placeholders is parsed afresh (in Python) every batch.
    _pg_events = (
        f"INSERT INTO events ({', '.join(_EVENT_COLUMNS)}) "
        f"SELECT * FROM unnest({', '.join(f'%s::{t}[]' for t in _EVENT_COLUMNS.values())}) "
        "ON CONFLICT (dedupe_key) DO NOTHING RETURNING dedupe_key"
    )

    def _rows(self, items: list[Interaction]) -> list[tuple]:
        at = self._at
        return [
            (
                i.dedupe_key, at(i.at), i.user_id, i.kind, i.is_message, i.is_question,
                i.matched, i.reply_kind, i.theme, i.entry_id, i.event_key, i.scene,
            )
            for i in items
        ]  # fmt: skip

    def _columns(self, items: list[Interaction]) -> tuple[list, ...]:
        return tuple(list(column) for column in zip(*self._rows(items), strict=True))

    def follower_params(self, r: dict) -> tuple:
        at = self._at
        return (
            r["openid"], r["user_id"], r["subscribed"], r["scene"], at(r["subscribed_at"]),
            at(r["unsubscribed_at"]), at(r["last_interaction_at"]), at(r["created_at"]),
        )  # fmt: skip

    def daily_params(self, r: tuple[str, date, int]) -> tuple:
        return (r[0], self._day(r[1]), r[2])

    def unanswered_params(self, r: dict) -> tuple:
        at = self._at
        return (r["text_hash"], r["text"], r["count"], at(r["first_seen"]), at(r["last_seen"]))


@functools.cache
def _hot_path_for(name: str, paramstyle: str, dialect) -> _HotPath:
    return _HotPath(dialect)


def _hot_path(dialect) -> _HotPath:
    return _hot_path_for(dialect.name, dialect.paramstyle, dialect)


def _follower_rows(items: list[Interaction]) -> dict[str | None, list[dict]]:
    """Each follower once per batch with the net effect of its interactions, in order.

    Grouped by the last follow change, which decides the statement (an upsert may touch
    a row once per statement on PostgreSQL).
    """
    latest: dict[str, dict] = {}
    for item in items:
        row = latest.setdefault(
            item.openid,
            {
                "openid": item.openid,
                "user_id": item.user_id,
                "created_at": item.at,
                "change": None,
                "scene": None,
                "subscribed_at": None,
                "unsubscribed_at": None,
            },
        )
        row["last_interaction_at"] = item.at
        if item.follow_change == "subscribe":
            row.update(change="subscribe", subscribed_at=item.at, scene=item.scene or row["scene"])
        elif item.follow_change == "unsubscribe":
            row.update(change="unsubscribe", unsubscribed_at=item.at)
    grouped: dict[str | None, list[dict]] = {}
    for row in latest.values():
        change = row.pop("change")
        row["subscribed"] = change != "unsubscribe"
        grouped.setdefault(change, []).append(row)
    return grouped


def _unanswered_rows(items: list[Interaction]) -> list[dict]:
    """Unanswered question texts counted once per ask, without who asked them."""
    folded: dict[str, dict] = {}
    for item in items:
        if not item.question:
            continue
        text, digest = _text_and_hash(item.question)
        row = folded.setdefault(
            digest, {"text_hash": digest, "text": text, "count": 0, "first_seen": item.at}
        )
        row["count"] += 1
        row["last_seen"] = item.at
    return list(folded.values())


def _unanswered_days(items: list[Interaction], tz: tzinfo) -> list[tuple[str, date, int]]:
    """(text hash, local day, asks) of the unanswered questions of a batch."""
    folded: dict[tuple[str, date], int] = {}
    for item in items:
        if item.question:
            digest = _text_and_hash(item.question)[1]
            key = (digest, item.at.astimezone(tz).date())
            folded[key] = folded.get(key, 0) + 1
    return [(digest, day, count) for (digest, day), count in folded.items()]


def _text_and_hash(question: str) -> tuple[str, str]:
    text = " ".join(question.split())[:500]
    return text, hashlib.sha256(text.encode()).hexdigest()


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
