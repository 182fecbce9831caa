"""Writing interactions: one group commit per batch, in the driver's own SQL.

This runs for every message (bot/inbox/recorder.py gathers them), so it speaks the
driver's SQL directly: the same statements through SQLAlchemy's compiler cost four
times as much.
"""

from __future__ import annotations

import functools
import hashlib
import operator
import time
from collections.abc import Iterable
from datetime import UTC, date, tzinfo

from sqlalchemy import Connection, Date, DateTime, Engine
from sqlalchemy.dialects import postgresql

from .interactions import EVENT_COLUMNS, ROW_ATTRIBUTES, Event, Interaction


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


# The events table's columns as the writer fills them, with their PostgreSQL types (the
# batch is sent as one array per column, each cast to its column's type): the model's.
_EVENT_TYPES = {
    name: Event.__table__.c[name].type.compile(dialect=postgresql.dialect())
    for name in EVENT_COLUMNS
}
_AT = ROW_ATTRIBUTES.index("at")
_row_of = operator.attrgetter(*ROW_ATTRIBUTES)


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
        row = "(" + ", ".join([self._mark] * len(EVENT_COLUMNS)) + ")"
        conn.exec_driver_sql(
            f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES "
            + ", ".join([row] * len(items))
            + " ON CONFLICT (dedupe_key) DO NOTHING",
            tuple(value for item in self._rows(items) for value in item),
        )
        return set(keys) - known

    # PostgreSQL takes the batch as one array per column, unnested into rows: the
    # statement stays short, so psycopg parses it once and caches it, where a VALUES
    # list of a few thousand placeholders is parsed afresh (in Python) every batch.
    _pg_events = (
        f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) "
        f"SELECT * FROM unnest({', '.join(f'%s::{t}[]' for t in _EVENT_TYPES.values())}) "
        "ON CONFLICT (dedupe_key) DO NOTHING RETURNING dedupe_key"
    )

    def _rows(self, items: list[Interaction]) -> list[tuple]:
        """Each interaction as its event row, the time bound as the dialect binds it."""
        at = self._at
        rows = []
        for item in items:
            row = list(_row_of(item))
            row[_AT] = at(row[_AT])
            rows.append(tuple(row))
        return rows

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
