"""Redis failing or hung: each process answers from its own state until Redis is back.

Nothing a reply needs lives only in Redis: the knowledge base is in the process, and
the database's unique key on each message is the last word on duplicates. So when a
Redis call fails (down, refused, or no answer within the client's short timeout) the
process goes on with its in-process twin and keeps away from Redis for a second, then
tries once more; requests meanwhile never wait for it. What is lost while Redis is
down: a retry that reaches another worker is answered again (and still recorded once),
a numbered list shown by one worker is unknown to the others, and the access token is
this machine's own (the README says so).

The outage is logged as one line when it starts, one a minute while it lasts, and one
when Redis answers again: never a traceback per request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from wechatpy.session import SessionStorage

from .base import Claim, Seen
from .memory import MemoryState
from .shared import RedisState

log = logging.getLogger(__name__)

T = TypeVar("T")


class Failover:
    """The State of a deployment with Redis: Redis while it answers, `own` while not."""

    def __init__(
        self,
        shared: RedisState,
        own: MemoryState,
        retry_seconds: float = 1.0,
        report_seconds: float = 60.0,
    ) -> None:
        self.shared = shared
        self.own = own
        self.retry_seconds = retry_seconds  # how long Redis is left alone after a failure
        self.report_seconds = report_seconds  # one log line per this while it is down
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._retry_at = 0.0
        self._reported = 0.0
        self._without = 0  # operations done without Redis since the last line

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def set(self, key: str, value: str, ttl: float, only_new: bool = False) -> bool:
        return self._run(lambda state: state.set(key, value, ttl, only_new))

    def get(self, key: str) -> str | None:
        return self._run(lambda state: state.get(key))

    def delete(self, key: str) -> None:
        self._run(lambda state: state.delete(key))

    def claim(self, key: str, value: str, ttl: float, seen: Seen | None = None) -> Claim:
        return self._run(lambda state: state.claim(key, value, ttl, seen))

    def ping(self) -> bool:
        """Whether Redis itself answers (for /healthz), whatever stands in meanwhile."""
        try:
            return self.shared.ping()
        except redis.RedisError:
            return False

    def token_storage(self) -> SessionStorage:
        return _Tokens(self, self.shared.token_storage(), self.own.token_storage())

    def _run(self, call: Callable[[Any], T], shared: Any = None, own: Any = None) -> T:
        shared = self.shared if shared is None else shared
        own = self.own if own is None else own
        if self._down_since is not None and self._keep_away():
            return call(own)
        try:
            result = call(shared)
        except redis.RedisError as exc:
            self._failed(exc)
            return call(own)
        if self._down_since is not None:
            self._back()
        return result

    def _keep_away(self) -> bool:
        """While down: True, except once per `retry_seconds`, when this caller tries Redis."""
        now = time.monotonic()
        with self._lock:
            if self._down_since is None:
                return False
            if now >= self._retry_at:
                self._retry_at = now + self.retry_seconds  # the others keep away meanwhile
                return False
            self._count(now)
            return True

    def _failed(self, exc: redis.RedisError) -> None:
        now = time.monotonic()
        with self._lock:
            self._retry_at = now + self.retry_seconds
            if self._down_since is not None:
                self._count(now)
                return
            self._down_since = self._reported = now
            self._without = 1
        log.warning(
            "Redis at %s unreachable (%s): answering with this process's own state until it "
            "is back (retries reaching other workers are answered again, recorded once; "
            "numbered lists are not shared)",
            self.shared.where(),
            _one_line(exc),
        )

    def _count(self, now: float) -> None:
        """One more operation without Redis; a line when the last is `report_seconds` old."""
        self._without += 1
        if now - self._reported >= self.report_seconds:
            log.warning(
                "Redis at %s still unreachable after %.0f s: %d operations used this "
                "process's own state in the last %.0f s",
                self.shared.where(),
                now - self._down_since,
                self._without,
                now - self._reported,
            )
            self._reported, self._without = now, 0

    def _back(self) -> None:
        with self._lock:
            if self._down_since is None:
                return
            down_for = time.monotonic() - self._down_since
            self._down_since = None
            without, self._without = self._without, 0
        log.warning(
            "Redis at %s answers again after %.1f s (%d operations used this process's own "
            "state meanwhile)",
            self.shared.where(),
            down_for,
            without,
        )


class _Tokens(SessionStorage):
    """wechatpy's token storage: Redis's, or this machine's while Redis is down."""

    def __init__(self, failover: Failover, shared: SessionStorage, own: SessionStorage) -> None:
        self._failover = failover
        self._shared = shared
        self._own = own

    def get(self, key: str, default: Any = None) -> Any:
        return self._use(lambda storage: storage.get(key, default))

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        self._use(lambda storage: storage.set(key, value, ttl))

    def delete(self, key: str) -> None:
        self._use(lambda storage: storage.delete(key))

    def _use(self, call: Callable[[SessionStorage], T]) -> T:
        return self._failover._run(call, self._shared, self._own)


def _one_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
