"""The in-process state (one process only), and the access-token file of one machine."""

from __future__ import annotations

import contextlib
import heapq
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from wechatpy.session import SessionStorage
from wechatpy.session.memorystorage import MemoryStorage

from .. import filelock
from .base import CLAIMED, FORGED, Claim, Seen


class FileTokenStorage(SessionStorage):
    """wechatpy's token storage in a file under var/, for a machine without Redis.

    Every fetch of an access token makes the previous one stop working within minutes,
    so two processes of one machine holding tokens of their own (`legalbot serve` and a
    `legalbot campaign send` by hand) would keep invalidating each other. This file is
    the one token they share; a lock file orders their writes, a rename makes each
    write whole. It holds a secret: readable by its owner only.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def get(self, key: str, default: Any = None) -> Any:
        item = self._read().get(key)
        if item is None or (item[1] is not None and item[1] <= time.time()):
            return default
        return item[0]

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        with self._locked() as data:
            data[key] = [value, time.time() + ttl if ttl else None]

    def delete(self, key: str) -> None:
        with self._locked() as data:
            data.pop(key, None)

    def _read(self) -> dict[str, list]:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, list]]:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Not POSIX (no flock): writes are still whole (renamed into place), only not ordered.
        with filelock.held(f"{self.path}.lock"):
            data = self._read()
            yield data
            now = time.time()
            data = {k: v for k, v in data.items() if v[1] is None or v[1] > now}
            tmp = self.path.with_name(self.path.name + ".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(data, fh)
            os.replace(tmp, self.path)


class MemoryState:
    """In-process state: one process only (documented in the README).

    Only the access token may outlive the process: with `token_file`, it is kept in
    that file, shared by the processes of this machine.
    """

    def __init__(self, token_file: Path | None = None) -> None:
        self._data: dict[str, tuple[str, float]] = {}
        # (expiry, key) of every set, soonest first: expired keys are dropped from the
        # front as they fall due, instead of scanning every key now and then (a pause
        # of milliseconds, under the lock, with a busy webhook's retries to remember).
        self._expiries: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self._tokens = FileTokenStorage(token_file) if token_file else MemoryStorage()

    def set(self, key: str, value: str, ttl: float, only_new: bool = False) -> bool:
        now = time.monotonic()
        with self._lock:
            self._purge(now)
            if only_new and self._live(key, now) is not None:
                return False
            self._put(key, value, ttl, now)
            return True

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._live(key, time.monotonic())

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def claim(self, key: str, value: str, ttl: float, seen: Seen | None = None) -> Claim:
        now = time.monotonic()
        with self._lock:
            self._purge(now)
            if seen is not None:
                digest = self._live(seen.key, now)
                if digest is not None and digest != seen.digest:
                    return FORGED
                if digest is None:
                    self._put(seen.key, seen.digest, seen.ttl, now)
            stored = self._live(key, now)
            if stored is not None:
                return Claim(new=False, stored=stored)
            self._put(key, value, ttl, now)
            return CLAIMED

    def ping(self) -> bool:
        return True

    def token_storage(self) -> SessionStorage:
        return self._tokens

    def _live(self, key: str, now: float) -> str | None:
        item = self._data.get(key)
        if item is None:
            return None
        if item[1] <= now:
            del self._data[key]
            return None
        return item[0]

    def _put(self, key: str, value: str, ttl: float, now: float) -> None:
        self._data[key] = (value, now + ttl)
        heapq.heappush(self._expiries, (now + ttl, key))

    def _purge(self, now: float) -> None:
        expiries, data = self._expiries, self._data
        while expiries and expiries[0][0] <= now:
            _, key = heapq.heappop(expiries)
            item = data.get(key)
            if item is not None and item[1] <= now:  # not set again since
                del data[key]
