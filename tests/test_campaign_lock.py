"""One scheduler at a time: the Redis lock and the database lease behave alike."""

from __future__ import annotations

import socket
import subprocess
import time

import pytest

from bot import records
from bot.records import schema
from scheduler.lock import DatabaseLease, RedisLock


@pytest.fixture(params=["database", "redis"])
def make_lock(request, tmp_path):
    if request.param == "database":
        engine = records.make_engine(f"sqlite:///{tmp_path}/lock.db")
        schema.upgrade(engine)
        yield lambda holder, ttl: DatabaseLease(engine, "scheduler", holder, ttl)
        engine.dispose()
    else:
        import redis

        url = request.getfixturevalue("redis_url")
        prefix = request.getfixturevalue("redis_prefix")
        client = redis.Redis.from_url(url)
        yield lambda holder, ttl: RedisLock(client, prefix + "scheduler:leader", holder, ttl)


def test_a_second_scheduler_waits_until_the_first_stops_renewing(make_lock):
    first, second = make_lock("host-a:1:x", 0.6), make_lock("host-b:2:y", 0.6)

    assert first.acquire() and not second.acquire()
    assert first.renew() and not second.renew()
    time.sleep(0.8)  # the first died: no renewal

    assert second.acquire()
    assert not first.renew()  # a holder that stalled past its TTL cannot come back
    first.release()  # nor delete its successor's lock
    assert not first.acquire() and second.renew()


def test_a_clean_stop_frees_the_lock_at_once(make_lock):
    first, second = make_lock("host-a:1:x", 30), make_lock("host-b:2:y", 30)
    assert first.acquire()
    first.release()
    assert second.acquire()


def test_a_dead_holder_on_this_machine_is_replaced_without_waiting(make_lock):
    gone = subprocess.Popen(["true"])
    gone.wait()
    dead = make_lock(f"{socket.gethostname()}:{gone.pid}:x", 30)
    assert dead.acquire()

    assert make_lock(f"{socket.gethostname()}:1:y", 30).acquire()
