"""Group commit: interactions from every request thread written by one thread, in batches.

A request writes its interaction to the journal (bot/journal.py: one line appended to
a file, so a worker killed after replying loses nothing) and goes on to reply; the
recorder's thread commits whatever has gathered meanwhile in one transaction. Under
load a burst of N messages costs one commit, not N, and no request thread waits for
the database or hands anything to another thread and back: both cost more than the
message itself. SQLite lets one writer in at a time and makes the others sleep and
poll, so the worker processes' recorders also queue on a file lock beside it.

A database that is down or locked delays the records, never the replies: the batch
waits in memory (and in the journal) and is tried again.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import logging
import os
import threading
import time
import weakref
from datetime import UTC, tzinfo
from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

from .. import filelock, records
from ..records import Interaction
from . import journal
from .journal import Journal, Segment

log = logging.getLogger(__name__)

MAX_BATCH = 500
IDLE_WAIT = 0.5  # seconds the thread sleeps with nothing to write
# Once woken, the thread lets more gather before it commits. No reply waits for the
# commit, and every batch has a fixed cost: a commit, the writer lock, and the GIL
# passed back and forth with the request threads around each SQLite call, which costs
# far more under load than the rows themselves. `flush` cuts the wait short.
GATHER = 0.1
RETRY_WAIT = (0.05, 0.2, 1.0, 5.0)  # between tries while the database is unreachable
# Errors that say "the database cannot take this now" rather than "this row is wrong".
TRANSIENT = (OperationalError, InterfaceError, DisconnectionError, OSError)

Pending = tuple[Interaction, Segment | None]


class Recorder:
    """One writer thread per process; `submit` writes down and queues, `flush` waits."""

    def __init__(
        self,
        engine: Engine,
        max_batch: int = MAX_BATCH,
        tz: tzinfo = UTC,
        journal_dir: Path | None = None,
    ) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self.tz = tz  # the statistics time zone: unanswered questions are counted per local day
        self.journal_dir = journal_dir if journal.available() else None
        self._pending: collections.deque[Pending] = collections.deque()
        self._wake = threading.Event()
        self._hurry = threading.Event()  # set by flush(): commit without gathering
        self._settled = threading.Condition()
        self._busy = False  # the thread holds a batch it has taken off the queue
        self._in_flight = 0  # ... of this many interactions
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._journal: Journal | None = None
        self._pid = 0
        self._conn: Connection | None = None  # the writer thread's own
        self._recent = records.RecentFollowers()  # ... and so is this
        db = engine.url.database if engine.dialect.name == "sqlite" else None
        # Not POSIX (no flock): SQLite's own busy wait only.
        usable = filelock.AVAILABLE and db and db != ":memory:"
        self._lockfile = f"{db}.writer-lock" if usable else None
        self._start_lock = threading.Lock()

    def submit(self, item: Interaction | None) -> None:
        """Write `item` down and queue it for the next batch (None: nothing to record)."""
        if item is None:
            return
        if self._pid != os.getpid():
            self._start()
        segment = None
        if self._journal is not None:
            try:
                segment = self._journal.append(item)
            except OSError as exc:  # disk full, folder gone: answer anyway, say what is at risk
                log.error("journal write failed, %s is in memory only: %s", item.dedupe_key, exc)
        self._pending.append((item, segment))
        if not self._wake.is_set():
            self._wake.set()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything submitted so far is committed; False on timeout."""
        self._hurry.set()
        with self._settled:
            return self._settled.wait_for(lambda: not self._pending and not self._busy, timeout)

    @property
    def backlog(self) -> int:
        """Interactions submitted and not yet committed."""
        return len(self._pending) + self._in_flight

    def close(self, timeout: float = 10) -> None:
        """Write what is queued, then stop the writer thread and tidy the journal.

        A writer still held up by the database after `timeout` is left to finish on
        its own (it alone uses its connection: closing a SQLite connection under a
        running statement crashes the process); what it holds stays in the journal.
        """
        if self._thread is None or self._pid != os.getpid():
            return
        self._stopping = True
        self._hurry.set()
        self._wake.set()
        self._thread.join(timeout)
        if self._journal is not None:
            self._journal.close(pending=self.backlog)
        self._thread = self._journal = None
        self._pid = 0

    def _start(self) -> None:
        # On first use, not in __init__: gunicorn forks after the app is built, and a
        # thread (or a locked journal file) made before the fork belongs to the parent.
        with self._start_lock:
            if self._pid == os.getpid():
                return
            self._pending.clear()  # a forked copy of the parent's queue is the parent's
            self._conn = None
            self._recent = records.RecentFollowers()
            self._stopping = False
            if self.journal_dir is not None:
                try:
                    self._journal = Journal(self.journal_dir)
                except OSError as exc:
                    log.error(
                        "no journal in %s (%s): until a restart, what is answered but not "
                        "yet committed is lost if the process is killed",
                        self.journal_dir,
                        exc,
                    )
            self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)
            self._thread.start()
            self._pid = os.getpid()
            # Commit what is still queued when the process exits normally (gunicorn's
            # graceful stop); a weak reference keeps tests' apps collectable.
            atexit.register(_close_if_alive, weakref.ref(self))

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            self._drop_connection()

    def _loop(self) -> None:
        if self.journal_dir is not None:
            with contextlib.suppress(Exception):  # logged inside; never stop the writer
                replay_orphans(self.engine, self.journal_dir, self.tz)
        while True:
            if not self._pending:
                if self._stopping:
                    return
                if self._wake.wait(IDLE_WAIT) and not self._stopping:
                    self._hurry.wait(GATHER)
                self._wake.clear()
            self._busy = True
            batch = [
                self._pending.popleft() for _ in range(min(self.max_batch, len(self._pending)))
            ]
            self._in_flight = len(batch)
            if batch and not self._write(batch):
                self._pending.extendleft(reversed(batch))  # first in, first out, still
                if self._stopping:  # the database is gone: the journal keeps them
                    self._busy, self._in_flight = False, 0
                    return
            with self._settled:
                self._busy, self._in_flight = False, 0
                if not self._pending:
                    self._hurry.clear()
                self._settled.notify_all()
            journal = self._journal
            if journal is not None and not self._stopping:  # close() tidies at the end
                journal.tidy()

    def _write(self, batch: list[Pending]) -> bool:
        """Commit the batch; False when the database cannot be reached (try again later).

        A dropped connection (restart, failover) is met with a new one at once; a
        database still unreachable is waited for a little longer each time. A batch the
        database refuses for what is in it is written one by one, so one bad row does
        not sink the others; that row alone is reported and dropped.
        """
        items = [item for item, _ in batch]
        error: Exception | None = None
        for wait in RETRY_WAIT:
            try:
                self._commit(items)
            except Exception as exc:  # noqa: BLE001 - decided below
                error = exc
                self._drop_connection()
                if not isinstance(exc, TRANSIENT):
                    break
                if self._stopping:
                    return False
                time.sleep(wait)
                continue
            self._committed(batch)
            return True
        if isinstance(error, TRANSIENT):
            log.error(
                "database unreachable, %d interactions wait: %s",
                len(self._pending) + len(batch),
                error,
            )
            return False
        log.warning("recording a batch of %d failed, writing one by one: %s", len(batch), error)
        for pending in batch:
            try:
                self._commit([pending[0]])
            except TRANSIENT:
                return False  # the rest (and this one) are tried again later
            except Exception as exc:  # noqa: BLE001 - the row itself is refused
                self._drop_connection()
                log.error("interaction %s NOT recorded: %s", pending[0].dedupe_key, exc)
            self._committed([pending])
        return True

    @staticmethod
    def _committed(batch: list[Pending]) -> None:
        for _, segment in batch:
            if segment is not None:
                segment.committed += 1

    def _commit(self, items: list[Interaction]) -> set[str]:
        if self._conn is None:
            self._conn = self.engine.connect()
        turn = filelock.held(self._lockfile) if self._lockfile else contextlib.nullcontext()
        with turn:
            return records.write_batch(self._conn, items, self.tz, self._recent)

    def _drop_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.invalidate()
                self._conn.close()
            self._conn = None


def replay_orphans(engine: Engine, directory: Path, tz: tzinfo = UTC) -> int:
    """Commit the journal files of processes that stopped without committing them.

    Returns how many interactions were new to the database. Safe to run at any time
    from any process: a file still in use is skipped, and what was already committed
    is recognised by its dedupe key and written once.
    """
    total = 0
    for path, fd in journal.orphans(directory):
        items = journal.read(path, fd)
        fresh = 0
        try:
            with engine.connect() as conn:
                for start in range(0, len(items), MAX_BATCH):
                    fresh += len(records.write_batch(conn, items[start : start + MAX_BATCH], tz))
        except Exception as exc:  # noqa: BLE001 - keep the file for the next try
            log.error("journal %s not replayed (kept for the next try): %s", path.name, exc)
            continue
        path.unlink(missing_ok=True)
        total += fresh
        if fresh:
            log.warning(
                "journal %s replayed: %d interactions were not yet recorded", path.name, fresh
            )
    return total


def _close_if_alive(ref: weakref.ref) -> None:
    recorder = ref()
    if recorder is not None:
        recorder.close()
