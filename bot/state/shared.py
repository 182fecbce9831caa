"""Redis-backed state shared by every worker; keys live under a prefix."""

from __future__ import annotations

from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from wechatpy.session import SessionStorage
from wechatpy.session.redisstorage import RedisStorage

from .base import CLAIMED, FORGED, Claim, Seen

# Redis answers a healthy request in well under a millisecond. A Redis that is paused
# or whose host is gone must not hold a resident's reply: past this it counts as down
# (failover.py) and the process answers with its own state.
TIMEOUT_SECONDS = 0.5

# One round trip per message: check the request's (timestamp, nonce) against its body,
# then claim the message's key with its reply, or read what a first request stored.
# KEYS[1] the message key, KEYS[2] the request key (absent: no check);
# ARGV: value, its ttl (ms), the body's digest, the request key's ttl (ms).
_CLAIM = """
if KEYS[2] then
  local digest = redis.call('GET', KEYS[2])
  if digest and digest ~= ARGV[3] then return {-1, false} end
  if not digest then redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4]) end
end
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return {1, false} end
return {0, redis.call('GET', KEYS[1])}
"""


def redis_client(url: str) -> redis.Redis:
    """A client with short timeouts, retrying once at once a connection found broken
    (Redis restarted) but never a timeout: a hung Redis costs one timeout, not four."""
    return redis.Redis.from_url(
        url,
        socket_timeout=TIMEOUT_SECONDS,
        socket_connect_timeout=TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
    )


class RedisState:
    """Redis-backed state shared by every worker; keys live under `prefix`."""

    def __init__(self, client: Any, prefix: str = "legalbot:") -> None:
        self._redis = client
        self._prefix = prefix
        self._claim = client.register_script(_CLAIM)

    def set(self, key: str, value: str, ttl: float, only_new: bool = False) -> bool:
        done = self._redis.set(self._prefix + key, value, px=_milliseconds(ttl), nx=only_new)
        return bool(done)

    def get(self, key: str) -> str | None:
        return _text(self._redis.get(self._prefix + key))

    def delete(self, key: str) -> None:
        self._redis.delete(self._prefix + key)

    def claim(self, key: str, value: str, ttl: float, seen: Seen | None = None) -> Claim:
        keys = [self._prefix + key]
        args: list[Any] = [value, _milliseconds(ttl)]
        if seen is not None:
            keys.append(self._prefix + seen.key)
            args += [seen.digest, _milliseconds(seen.ttl)]
        won, stored = self._claim(keys=keys, args=args)
        if won == 1:
            return CLAIMED
        if won == -1:
            return FORGED
        return Claim(new=False, stored=_text(stored))

    def ping(self) -> bool:
        return bool(self._redis.ping())

    def token_storage(self) -> SessionStorage:
        return RedisStorage(self._redis, prefix=self._prefix + "wechatpy")

    def where(self) -> str:
        """host:port (or the socket) for log lines; never the password."""
        kwargs = self._redis.connection_pool.connection_kwargs
        if "path" in kwargs:
            return str(kwargs["path"])
        return f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}"


def _text(value: Any) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def _milliseconds(ttl: float) -> int:
    """Redis's PX for a ttl in seconds (at least 1: PX 0 is an error)."""
    return max(1, int(ttl * 1000))
