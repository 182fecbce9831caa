"""Creating and upgrading the database schema with the Alembic migrations in bot/records/migrations."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision; idempotent, safe on every start."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # Two workers upgrading at once must not race: one waits for the other.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7406111)")
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
