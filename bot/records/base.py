"""The declarative base every model of the project shares, and the clock records use."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


def now() -> datetime:
    return datetime.now(UTC)


def aware(at: datetime) -> datetime:
    """SQLite gives timestamps back without their zone; they were written in UTC."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def upsert(engine: Engine, table):
    """An INSERT that takes ON CONFLICT clauses, in the dialect of `engine`."""
    return (postgresql if engine.dialect.name == "postgresql" else sqlite).insert(table)
