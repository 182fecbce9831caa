"""Advisory file locks (`flock`) between the processes of one machine; POSIX only.

The journal marks a file as its living process's with one, the SQLite writers of the
worker processes take turns with one, and the shared access-token file is updated under
one. Where `flock` does not exist (not POSIX) `AVAILABLE` is False: the journal is off,
and the other two fall back to what SQLite and a single process give.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import IO

try:
    import fcntl
except ImportError:  # not POSIX
    fcntl = None  # type: ignore[assignment]

AVAILABLE = fcntl is not None


def lock(fd: int | IO, wait: bool = True) -> bool:
    """Take `fd`'s exclusive lock; without `wait`, False when it cannot be had now."""
    if fcntl is None:
        return True
    if wait:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # held by another (EWOULDBLOCK), or not lockable: not ours
        return False
    return True


@contextlib.contextmanager
def held(path: str) -> Iterator[None]:
    """The exclusive lock of the lock file at `path` (created if missing) for a block."""
    with open(path, "a") as fh:
        lock(fh)
        yield  # closing the file lets go of the lock
