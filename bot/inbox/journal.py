"""The interaction journal: each interaction is on disk before its reply leaves.

The webhook must not wait for the database (SQLite lets one writer in at a time, and a
commit per message halves the throughput), yet a worker killed between the reply and
the commit must not lose the interaction. So a request appends one JSON line to its
process's journal file (one `write` system call, no lock, no thread to wake) and the
recorder commits from memory in batches. Once every line of a file is committed the
file is deleted. A file whose process died (its `flock` is free) is replayed by the
next recorder or by `legalbot stats`; writing an interaction twice is harmless, its
dedupe key makes the second time a no-op.

The lines survive the process (the kernel holds them), not a power cut: no `fsync`,
which would cost each message a disk flush.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import fields
from datetime import datetime
from pathlib import Path

import orjson

from .. import filelock
from ..config import private_dir
from ..records import Interaction

log = logging.getLogger(__name__)

SUFFIX = ".jsonl"
ROTATE_LINES = 20_000  # a segment this long is closed and a new one begun
ROTATE_SECONDS = 60.0  # ... and so is one this old, so a replay stays short
GRACE_SECONDS = 1.0  # a closed segment is deleted no sooner: a late append may be in flight

_FIELDS = tuple(f.name for f in fields(Interaction))


def available() -> bool:
    return filelock.AVAILABLE  # not POSIX: no journal, the recorder writes from memory only


def dumps(item: Interaction) -> bytes:
    """One JSON line; orjson writes a dataclass (and its datetime, as ISO 8601) directly."""
    return orjson.dumps(item, option=orjson.OPT_APPEND_NEWLINE)


def loads(line: bytes) -> Interaction:
    row = orjson.loads(line)
    row["at"] = datetime.fromisoformat(row["at"])
    return Interaction(**{k: v for k, v in row.items() if k in _FIELDS})


class Segment:
    """One journal file, open for appending and locked while its process lives."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / f"{os.getpid()}-{time.time_ns()}{SUFFIX}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC
        self.fd = os.open(self.path, flags, 0o600)
        filelock.lock(self.fd)
        self.opened = time.monotonic()
        self.closed_at: float | None = None
        self._count = threading.Lock()  # held for an addition only, never across the write
        self.appended = 0
        self.committed = 0  # the recorder's thread only

    def append(self, line: bytes) -> None:
        os.write(self.fd, line)  # O_APPEND: concurrent lines never interleave
        with self._count:
            self.appended += 1

    def delete(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        os.close(self.fd)  # the lock goes with the descriptor


class Journal:
    """The journal files of one process under `directory` (var/journal)."""

    def __init__(
        self,
        directory: Path,
        rotate_lines: int = ROTATE_LINES,
        rotate_seconds: float = ROTATE_SECONDS,
        grace: float = GRACE_SECONDS,
    ) -> None:
        self.directory = directory
        self.rotate_lines, self.rotate_seconds, self.grace = rotate_lines, rotate_seconds, grace
        private_dir(directory)  # its lines hold OpenIDs
        self.pid = os.getpid()
        self.current = Segment(directory)
        self._closed: list[Segment] = []

    def append(self, item: Interaction) -> Segment:
        """Write `item` down; the segment it went to (for `committed`)."""
        segment = self.current  # one read: a rotation meanwhile does not split the pair
        segment.append(dumps(item))
        return segment

    def tidy(self) -> None:
        """Begin a new segment when the current one is long or old; delete finished ones.

        Run by the recorder's thread between batches.
        """
        current = self.current
        age = time.monotonic() - current.opened
        if current.appended >= self.rotate_lines or (
            current.appended and age >= self.rotate_seconds
        ):
            self.current = Segment(self.directory)
            current.closed_at = time.monotonic()
            self._closed.append(current)
        now = time.monotonic()
        for segment in list(self._closed):
            if segment.committed >= segment.appended and now - segment.closed_at >= self.grace:
                segment.delete()
                self._closed.remove(segment)

    def close(self, pending: int) -> None:
        """At exit: delete every segment when nothing is `pending`, else keep them for replay."""
        segments = [*self._closed, self.current]
        if pending:
            log.warning(
                "%d interactions not yet in the database; kept in %s for the next start",
                pending,
                self.directory,
            )
            for segment in segments:
                os.close(segment.fd)
            return
        for segment in segments:
            segment.delete()


def orphans(directory: Path) -> Iterator[tuple[Path, int]]:
    """Journal files no living process holds, each locked (fd) while the caller replays it."""
    if not filelock.AVAILABLE or not directory.is_dir():
        return
    for path in sorted(directory.glob("*" + SUFFIX)):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:  # finished and deleted meanwhile
            continue
        if not filelock.lock(fd, wait=False):  # its process is alive and writing
            os.close(fd)
            continue
        try:
            yield path, fd
        finally:
            os.close(fd)


def read(path: Path, fd: int) -> list[Interaction]:
    """The interactions of a journal file; a line cut short by a crash is skipped."""
    items = []
    with open(fd, "rb", closefd=False) as fh:
        for number, line in enumerate(fh, 1):
            try:
                items.append(loads(line))
            except (ValueError, TypeError) as exc:
                log.warning("%s:%d: unreadable journal line skipped (%s)", path, number, exc)
    return items
