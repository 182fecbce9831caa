"""Group commit: interactions from every request thread written by one thread, in batches.

SQLite lets one writer in at a time and makes the others sleep and retry, so under load
one transaction per message turns into a queue of sleeping threads. Here each request
hands its interaction to the writer thread and waits until the batch holding it is
committed: the resident's reply leaves after the interaction is recorded (so
`legalbot stats` counts every answered message; bot/inbox.py stops waiting at the time
budget when the database is slow), but a burst of N messages costs one transaction,
not N. PostgreSQL gains the same: fewer round trips and commits.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import queue
import threading
import weakref
from concurrent.futures import Future
from datetime import UTC, tzinfo

from sqlalchemy import Connection, Engine

try:
    import fcntl
except ImportError:  # not POSIX: SQLite's own busy wait only
    fcntl = None  # type: ignore[assignment]

from . import records
from .records import Interaction

log = logging.getLogger(__name__)

MAX_BATCH = 200
_STOP = object()


class Recorder:
    """One writer thread per process: `submit` queues an interaction, `record` also waits."""

    def __init__(self, engine: Engine, max_batch: int = MAX_BATCH, tz: tzinfo = UTC) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self.tz = tz  # the statistics time zone: unanswered questions are counted per local day
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._conn: Connection | None = None  # the writer thread's own
        # SQLite lets one writer in and makes the others sleep and poll (1, 2, 5 … 100 ms),
        # so two worker processes' writers cost each other whole milliseconds; a file
        # lock beside the database queues them instead, each woken the moment it is free.
        db = engine.url.database if engine.dialect.name == "sqlite" else None
        usable = fcntl is not None and db and db != ":memory:"
        self._lockfile = f"{db}.writer-lock" if usable else None
        self._start_lock = threading.Lock()

    def submit(self, item: Interaction | None) -> Future | None:
        """Queue `item` for the next batch; the future says True when it was new.

        The future holds what the database raised when the interaction could not be
        written, even alone. None in, None out: nothing to record.
        """
        if item is None:
            return None
        self._ensure_started()
        done: Future = Future()
        self._queue.put((item, done))
        return done

    def record(self, item: Interaction, timeout: float | None = None) -> bool:
        """Write `item` and wait for the commit; False when its key was already recorded."""
        return self.submit(item).result(timeout)

    def close(self) -> None:
        """Write what is queued, then stop the writer thread."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(10)
            self._thread = None
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    def _ensure_started(self) -> None:
        # Started on first use, not in __init__: gunicorn forks after the app is built,
        # and a thread started before the fork would not exist in the worker.
        if self._thread is None or not self._thread.is_alive():
            with self._start_lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)
                    self._thread.start()
                    # Commit what is still queued when the process exits normally
                    # (gunicorn's graceful stop); a weak reference keeps tests' apps collectable.
                    atexit.register(_close_if_alive, weakref.ref(self))

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stop = True
                    break
                batch.append(more)
            self._write(batch)
            if stop:
                return

    def _write(self, batch: list[tuple[Interaction, Future]]) -> None:
        """Commit the batch (twice if need be); if it still fails, each interaction alone.

        The second try meets a database that dropped the connection (restart, failover)
        with a new one; writing alone then keeps one bad row from sinking the others.
        The writer keeps one connection of its own: checking one out of the pool for
        every batch cost a liveness ping each time (half the batch on PostgreSQL).
        """
        items = [item for item, _ in batch]
        error: Exception | None = None
        for _attempt in (1, 2):
            try:
                fresh = self._commit(items)
            except Exception as exc:  # noqa: BLE001 - every waiting request must hear the outcome
                error = exc
                self._drop_connection()
                continue
            for item, done in batch:
                done.set_result(item.dedupe_key in fresh)
            return
        if len(batch) == 1:
            batch[0][1].set_exception(error)
            return
        log.warning("recording a batch of %d failed, writing one by one: %s", len(batch), error)
        for item, done in batch:
            try:
                done.set_result(item.dedupe_key in self._commit([item]))
            except Exception as exc:  # noqa: BLE001
                self._drop_connection()
                done.set_exception(exc)

    def _commit(self, items: list[Interaction]) -> set[str]:
        if self._conn is None:
            self._conn = self.engine.connect()
        if self._lockfile is None:
            return records.write_batch(self._conn, items, self.tz)
        with open(self._lockfile, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                return records.write_batch(self._conn, items, self.tz)
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _drop_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.invalidate()
                self._conn.close()
            self._conn = None


def _close_if_alive(ref: weakref.ref) -> None:
    recorder = ref()
    if recorder is not None:
        recorder.close()
