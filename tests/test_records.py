"""The schema: migrations create what the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import records
from bot.records import schema


def _drift(engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn)
        return compare_metadata(context, records.Base.metadata)


def test_migrations_match_the_models_on_sqlite(tmp_path):
    engine = records.make_engine(f"sqlite:///{tmp_path}/db.sqlite")
    schema.upgrade(engine)
    schema.upgrade(engine)  # idempotent
    assert _drift(engine) == []


def test_migrations_match_the_models_on_postgresql(pg_url):
    engine = records.make_engine(pg_url)
    schema.upgrade(engine)
    schema.upgrade(engine)
    assert _drift(engine) == []
    engine.dispose()


def test_pseudonym_is_keyed_and_stable():
    a = records.pseudonym("key-1", "openid-x")
    assert a == records.pseudonym("key-1", "openid-x")
    assert a != records.pseudonym("key-2", "openid-x")
    assert "openid" not in a and len(a) == 32


def _item(key: str, openid: str = "o-1", **fields) -> records.Interaction:
    fields.setdefault("kind", "text")
    fields.setdefault("is_message", True)
    return records.Interaction(
        openid=openid, user_id=records.pseudonym("k", openid), dedupe_key=key, **fields
    )


def test_a_batch_records_each_interaction_once_with_its_side_effects(engine):
    start = records.now()
    batch = [
        _item("e:1", kind="subscribe", is_message=False, follow_change="subscribe", scene="market"),
        _item("m:1", is_question=True, matched=False, question="明天  会下雪吗"),
        _item("m:1", is_question=True, matched=False, question="明天会下雪吗"),  # same key
        _item("m:2", is_question=True, matched=False, question="明天 会下雪吗"),
        _item("m:3", openid="o-2", is_question=True, matched=True, theme="fraud"),
        _item(
            "e:2", openid="o-2", kind="unsubscribe", is_message=False, follow_change="unsubscribe"
        ),
    ]
    assert records.record_batch(engine, batch) == {"e:1", "m:1", "m:2", "m:3", "e:2"}
    assert records.record_batch(engine, [_item("m:2"), _item("m:4")]) == {"m:4"}
    with Session(engine) as db:
        assert db.scalar(select(func.count()).select_from(records.Event)) == 6
        one, two = db.scalars(select(records.Follower).order_by(records.Follower.openid))
        unanswered = db.scalars(select(records.UnansweredQuestion)).one()
    assert (one.openid, one.subscribed, one.scene) == ("o-1", True, "market")
    assert one.last_interaction_at >= start.replace(tzinfo=one.last_interaction_at.tzinfo)
    assert (two.openid, two.subscribed, two.unsubscribed_at is not None) == ("o-2", False, True)
    assert (unanswered.text, unanswered.count) == ("明天 会下雪吗", 2)


def _followers(engine) -> dict[str, tuple]:
    with Session(engine) as db:
        rows = db.scalars(select(records.Follower))
        return {f.openid: (f.subscribed, f.last_interaction_at.replace(tzinfo=UTC)) for f in rows}


def test_a_writer_stores_a_followers_time_once_a_minute_but_every_follow_change(engine):
    t0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    recent = records.RecentFollowers(every=60)
    with engine.connect() as conn:
        records.write_batch(conn, [_item("m:1", at=t0)], recent=recent)
        # Ten seconds on, o-1's time was just stored: not again. o-2 is new: stored.
        later = t0 + timedelta(seconds=10)
        records.write_batch(
            conn, [_item("m:2", at=later), _item("m:3", "o-2", at=later)], recent=recent
        )
        assert _followers(engine) == {"o-1": (True, t0), "o-2": (True, later)}
        # A follow change is always written, with its time.
        gone = t0 + timedelta(seconds=20)
        unsubscribe = _item(
            "e:1", kind="unsubscribe", is_message=False, follow_change="unsubscribe", at=gone
        )
        records.write_batch(conn, [unsubscribe], recent=recent)
        assert _followers(engine)["o-1"] == (False, gone)
        # A writer whose window has passed (every=0: always passed) stores the time again.
        back = t0 + timedelta(seconds=30)
        records.write_batch(conn, [_item("m:4", "o-2", at=back)], recent=records.RecentFollowers(0))
        assert _followers(engine)["o-2"] == (True, back)
        # Without `recent` (replays, single records) every time is stored.
        records.write_batch(conn, [_item("m:5", at=back)])
        assert _followers(engine)["o-1"] == (False, back)
    assert set(_event_keys(engine)) == {"m:1", "m:2", "m:3", "e:1", "m:4", "m:5"}


def _event_keys(engine) -> list[str]:
    with Session(engine) as db:
        return list(db.scalars(select(records.Event.dedupe_key)))


def test_a_later_subscribe_keeps_the_first_scene_when_it_has_none(engine):
    records.record_batch(
        engine,
        [
            _item(
                "e:1",
                kind="subscribe",
                is_message=False,
                follow_change="subscribe",
                scene="lecture",
            )
        ],
    )
    records.record_batch(
        engine, [_item("e:2", kind="unsubscribe", is_message=False, follow_change="unsubscribe")]
    )
    records.record_batch(
        engine, [_item("e:3", kind="subscribe", is_message=False, follow_change="subscribe")]
    )
    with Session(engine) as db:
        follower = db.scalars(select(records.Follower)).one()
    assert (follower.subscribed, follower.scene, follower.unsubscribed_at) == (
        True,
        "lecture",
        None,
    )


def test_the_recorder_reconnects_after_the_database_dropped_its_connection(pg_url):
    """PostgreSQL restarted (here: the writer's backend terminated): nothing is lost."""
    from sqlalchemy import text

    from bot.inbox.recorder import Recorder

    engine = records.make_engine(pg_url)
    schema.upgrade(engine)
    recorder = Recorder(engine)
    try:
        recorder.submit(_item("m:before"))
        assert recorder.flush(10)
        with engine.connect() as admin:
            admin.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            admin.commit()
        recorder.submit(_item("m:after"))
        assert recorder.flush(10)
    finally:
        recorder.close()
    with Session(engine) as db:
        keys = set(db.scalars(select(records.Event.dedupe_key)))
    engine.dispose()
    assert keys == {"m:before", "m:after"}


def test_recent_followers_forget_the_stale_and_keep_the_fresh():
    recent = records.RecentFollowers(every=60)
    recent.stored([f"old-{n}" for n in range(3000)], now=0.0)
    assert recent.fresh("old-1", now=59.0) and not recent.fresh("old-1", now=60.0)
    recent.stored([f"new-{n}" for n in range(2000)], now=100.0)  # past 4,096: stale ones go
    assert len(recent._stored) == 2000
    assert recent.fresh("new-1", now=101.0) and not recent.fresh("old-1", now=101.0)
