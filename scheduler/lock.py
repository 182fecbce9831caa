"""One scheduler at a time: whoever holds the lock runs the jobs, the others stand by.

With Redis (LEGALBOT_REDIS_URL) the lock is a key set with NX and a TTL, renewed by its
holder and deleted on a clean stop; without Redis it is a row of `scheduler_leases`
with an expiry, taken over by an UPDATE that succeeds only when the row is expired. A
holder that dies stops renewing: its standby takes over once the TTL has passed.
Renewal and release check the holder, so a process that lost the lock (paused past its
TTL) can never renew or delete its successor's.
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import Engine, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot import records

from .models import SchedulerLease


def owner_id() -> str:
    """host:pid:random, so a sender on the same machine can tell when the owner died."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def owner_is_dead(owner: str | None) -> bool:
    """True when `owner` was a process on this machine that no longer exists."""
    if not owner:
        return False
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_TAKE_FROM = """
if redis.call('get', KEYS[1]) == ARGV[2] then
  return redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[3])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class LeaderLock(Protocol):
    def acquire(self) -> bool:
        """Take the lock if it is free (or already ours); True when we hold it."""

    def renew(self) -> bool:
        """Extend our hold; False when we no longer hold it."""

    def release(self) -> None: ...


class RedisLock:
    def __init__(self, client, key: str, holder: str, ttl: float):
        self.client, self.key, self.holder = client, key, holder
        self.ttl_ms = max(1, int(ttl * 1000))
        self._renew = client.register_script(_RENEW)
        self._take_from = client.register_script(_TAKE_FROM)
        self._release = client.register_script(_RELEASE)

    def acquire(self) -> bool:
        if self.client.set(self.key, self.holder, nx=True, px=self.ttl_ms):
            return True
        if self.renew():
            return True
        current = self.client.get(self.key)
        current = current.decode() if isinstance(current, bytes) else current
        if owner_is_dead(current):
            return bool(self._take_from(keys=[self.key], args=[self.holder, current, self.ttl_ms]))
        return False

    def renew(self) -> bool:
        return bool(self._renew(keys=[self.key], args=[self.holder, self.ttl_ms]))

    def release(self) -> None:
        self._release(keys=[self.key], args=[self.holder])


class DatabaseLease:
    """The lease row `name` of scheduler_leases. Times are this host's clock (UTC): hosts
    sharing one database must keep their clocks in sync (NTP), as they do anyway."""

    def __init__(self, engine: Engine, name: str, holder: str, ttl: float):
        self.engine, self.name, self.holder = engine, name, holder
        self.ttl = timedelta(seconds=ttl)

    def acquire(self) -> bool:
        at = records.now()
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        with self.engine.begin() as conn:
            inserted = conn.execute(
                dialect.insert(SchedulerLease)
                .values(name=self.name, holder=self.holder, expires_at=at + self.ttl)
                .on_conflict_do_nothing(index_elements=["name"])
            ).rowcount
            if inserted:
                return True
            taken = conn.execute(
                self._extend(at).where(
                    or_(SchedulerLease.holder == self.holder, SchedulerLease.expires_at < at)
                )
            ).rowcount
            if not taken:
                current = conn.execute(
                    select(SchedulerLease.holder).where(SchedulerLease.name == self.name)
                ).scalar()
                if owner_is_dead(current):
                    taken = conn.execute(
                        self._extend(at).where(SchedulerLease.holder == current)
                    ).rowcount
        return bool(taken)

    def renew(self) -> bool:
        at = records.now()
        with self.engine.begin() as conn:
            return bool(
                conn.execute(self._extend(at).where(SchedulerLease.holder == self.holder)).rowcount
            )

    def release(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(SchedulerLease)
                .where(SchedulerLease.name == self.name, SchedulerLease.holder == self.holder)
                .values(expires_at=datetime(1970, 1, 1, tzinfo=UTC))
            )

    def _extend(self, at: datetime):
        return (
            update(SchedulerLease)
            .where(SchedulerLease.name == self.name)
            .values(holder=self.holder, expires_at=at + self.ttl)
        )


def make_lock(config, engine: Engine, holder: str) -> LeaderLock:
    """Redis when configured (shared by every host), else the database lease."""
    ttl = config.campaigns.lock_ttl_seconds
    if config.redis_url:
        import redis

        client = redis.Redis.from_url(config.redis_url, socket_timeout=2)
        return RedisLock(client, config.redis_prefix + "scheduler:leader", holder, ttl)
    return DatabaseLease(engine, "scheduler", holder, ttl)
