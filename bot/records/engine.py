"""The database engine: SQLite's folder, files, WAL and busy timeout; whether it answers."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from ..config import private_dir


def make_engine(url: str) -> Engine:
    """The engine for `url`; SQLite gets its folder, WAL and a busy timeout for workers.

    Statements' parameters never appear in an error message or a log line
    (`hide_parameters`): they hold OpenIDs, and a failing insert would print them.
    """
    parsed = make_url(url)
    kwargs: dict = {"pool_pre_ping": True, "hide_parameters": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _private_files(Path(parsed.database))
        kwargs = {
            "hide_parameters": True,
            "connect_args": {"timeout": 15, "check_same_thread": False},
        }
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _private_files(database: Path) -> None:
    """The SQLite file (OpenIDs, the pseudonym map, password hashes) readable by its owner
    only, and so its WAL and shared-memory files, which SQLite creates with the
    database file's permissions: it is created empty with 0600 before SQLite opens it,
    and an existing one (from an older version) is tightened."""
    if not database.parent.exists():
        private_dir(database.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        with contextlib.suppress(OSError):  # missing, or not ours to change
            if stat.S_IMODE(path.stat().st_mode) & 0o077:
                path.chmod(0o600)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def database_answers(engine: Engine) -> bool:
    """True when the database answers a trivial query (for /healthz)."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not healthy", reported as 503
        return False
