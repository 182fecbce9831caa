"""One WeChat call at a time: paced (a rate shared by every sender) and retried when
WeChat is busy or cannot be reached, with what each answer means for the campaign."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from wechatpy.exceptions import WeChatClientException

from . import wxcodes
from .states import Delivery, State


class RateLimiter:
    """At most `per_second` messages a second (limits' moving window).

    With Redis the window is shared by every process sending for the account, which is
    what WeChat's limits are about; without it, per process.
    """

    def __init__(self, per_second: int, redis_url: str = "", prefix: str = "legalbot:"):
        from limits import RateLimitItemPerSecond, storage, strategies

        self.item = RateLimitItemPerSecond(per_second)
        backend = (
            storage.RedisStorage(redis_url, key_prefix=prefix + "rate")
            if redis_url
            else storage.MemoryStorage()
        )
        self._limiter = strategies.MovingWindowRateLimiter(backend)

    def acquire(self, key: str, *stops: threading.Event) -> bool:
        """Wait for a slot; False when one of `stops` is set meanwhile."""
        while not self._limiter.hit(self.item, key):
            if any(stop.is_set() for stop in stops):
                return False
            stats = self._limiter.get_window_stats(self.item, key)
            time.sleep(min(max(stats.reset_time - time.time(), 0.001), 0.05))
        return True


@dataclass
class Stop:
    """WeChat answered that the campaign cannot go on now: pause or fail it."""

    state: str  # paused | failed
    error: str


def call_with_retries(call: Callable[[], Any], stop: threading.Event, settings, mass: bool = False):
    """Make the call; retry on busy (-1, 45011) and on failures to connect, with backoff.

    Customer-service: a request that may have reached WeChat but got no answer (read
    timeout, connection dropped mid-answer) is not retried: presumed delivered, as
    after a crash. Mass: every failure is retried; the clientmsgid makes it safe.
    Returns the answer (mass), ("sent"|"skipped"|"failed"|"presumed", errcode), or Stop.
    """
    attempts = settings.retry_attempts
    last = "WeChat is busy"
    for attempt in range(attempts):
        if attempt:
            delay = settings.retry_backoff_seconds * 2 ** (attempt - 1)
            if stop.wait(delay):
                return Stop(State.PAUSED, f"{last}; stopped while waiting to retry")
        try:
            answer = call()
        except WeChatClientException as exc:
            code = exc.errcode
            if code is None:  # an HTTP error status from a gateway: not processed
                last = f"HTTP status {getattr(exc.response, 'status_code', '?')}"
                continue
            code = int(code)
            if mass and code == wxcodes.ALREADY_SENT:
                return "already"
            if code in wxcodes.RETRY:
                last = wxcodes.describe(code)
                continue
            if code in wxcodes.SKIP and not mass:
                return (Delivery.SKIPPED, code)
            if code in wxcodes.PAUSE:
                return Stop(State.PAUSED, wxcodes.describe(code, str(exc.errmsg)))
            if code in wxcodes.FAIL or mass:
                return Stop(State.FAILED, wxcodes.describe(code, str(exc.errmsg)))
            return (Delivery.FAILED, code)
        except requests.RequestException as exc:
            if mass or _never_reached(exc):
                last = f"WeChat cannot be reached ({type(exc).__name__})"
                continue
            return (Delivery.PRESUMED, None)
        return answer if mass else (Delivery.SENT, None)
    return Stop(State.PAUSED, f"{last} after {attempts} tries; resumable")


def _never_reached(exc: requests.RequestException) -> bool:
    """True when the request cannot have reached WeChat (refused, connect timeout)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError):
        from urllib3.exceptions import MaxRetryError, NewConnectionError

        reason = exc.args[0] if exc.args else None
        if isinstance(reason, MaxRetryError):
            return isinstance(reason.reason, NewConnectionError)
    return False
