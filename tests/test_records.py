"""The schema: migrations create what the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot import records, schema


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
