"""Shared short-lived state: message deduplication, conversation state, the access token.

With Redis configured every worker process sees the same state, which is what lets
several gunicorn workers agree that a WeChat retry is a retry. Without Redis an
in-process twin keeps the same interface; it is correct for one process only.
"""

from __future__ import annotations

import contextlib
import heapq
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from wechatpy.session import SessionStorage
from wechatpy.session.memorystorage import MemoryStorage
from wechatpy.session.redisstorage import RedisStorage

from . import filelock


class State(Protocol):
    """Key/value store with expiry; values are strings."""

    def set(self, key: str, value: str, ttl: float, only_new: bool = False) -> bool:
        """Store `value` for `ttl` seconds; with `only_new`, only if the key is absent."""

    def get(self, key: str) -> str | None: ...

    def delete(self, key: str) -> None: ...

    def ping(self) -> bool: ...

    def token_storage(self) -> SessionStorage:
        """Where wechatpy keeps the access token (shared between workers with Redis)."""


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
        self.path.parent.mkdir(parents=True, exist_ok=True)
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
            if only_new:
                current = self._data.get(key)
                if current is not None and current[1] > now:
                    return False
            self._data[key] = (value, now + ttl)
            heapq.heappush(self._expiries, (now + ttl, key))
            return True

    def get(self, key: str) -> str | None:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            if item[1] <= time.monotonic():
                del self._data[key]
                return None
            return item[0]

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def ping(self) -> bool:
        return True

    def token_storage(self) -> SessionStorage:
        return self._tokens

    def _purge(self, now: float) -> None:
        expiries, data = self._expiries, self._data
        while expiries and expiries[0][0] <= now:
            _, key = heapq.heappop(expiries)
            item = data.get(key)
            if item is not None and item[1] <= now:  # not set again since
                del data[key]


class RedisState:
    """Redis-backed state shared by every worker; keys live under `prefix`."""

    def __init__(self, client: Any, prefix: str = "legalbot:") -> None:
        self._redis = client
        self._prefix = prefix

    def set(self, key: str, value: str, ttl: float, only_new: bool = False) -> bool:
        done = self._redis.set(self._prefix + key, value, px=_milliseconds(ttl), nx=only_new)
        return bool(done)

    def get(self, key: str) -> str | None:
        value = self._redis.get(self._prefix + key)
        return value.decode() if isinstance(value, bytes) else value

    def delete(self, key: str) -> None:
        self._redis.delete(self._prefix + key)

    def ping(self) -> bool:
        return bool(self._redis.ping())

    def token_storage(self) -> SessionStorage:
        return RedisStorage(self._redis, prefix=self._prefix + "wechatpy")


def _milliseconds(ttl: float) -> int:
    """Redis's PX for a ttl in seconds (at least 1: PX 0 is an error)."""
    return max(1, int(ttl * 1000))


def get_json(state: State, key: str) -> Any:
    """Read a JSON value stored with `set_json`, or None."""
    raw = state.get(key)
    return None if raw is None else json.loads(raw)


def set_json(state: State, key: str, value: Any, ttl: float) -> None:
    state.set(key, json.dumps(value, ensure_ascii=False), ttl)


def connect(redis_url: str, prefix: str = "legalbot:", var_dir: Path | None = None) -> State:
    """The state for this configuration: Redis when a URL is given, else in-process.

    Without Redis the WeChat access token is kept in `var_dir` (when given), shared by
    this machine's processes.
    """
    if not redis_url:
        return MemoryState(var_dir / "wechat_token.json" if var_dir else None)
    import redis

    return RedisState(redis.Redis.from_url(redis_url, socket_timeout=2), prefix)
