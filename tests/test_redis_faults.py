"""Redis down or hung: every message is answered as usual and recorded once, no reply
waits for Redis, and the outage is one log line, not a traceback per request.

Each test runs a Redis of its own (tests/ownredis.py) and kills or pauses it by its pid,
or points the app at a port where nothing listens or at a socket that never answers.
"""

from __future__ import annotations

import logging
import socket
import time

import pytest

from bot.inbox.inbox import APOLOGY
from bot.state import Failover, MemoryState, RedisState
from bot.state.shared import redis_client
from tests.conftest import TOKEN, settled, summary
from tests.ownredis import free_port
from tests.wxdriver import Driver

QUESTION = "老板拖了三个月工资不给"
STATE_LOGGER = "bot.state"


def _answered(reply) -> bool:
    return reply.status == 200 and "工资" in (reply.content or "") and APOLOGY not in reply.body


def _outage_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith(STATE_LOGGER)]


def _no_traceback(caplog) -> None:
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []


def test_redis_killed_mid_traffic_loses_no_message(build_app, own_redis, caplog):
    caplog.set_level(logging.WARNING)
    sections = {"redis": {"url": own_redis.url, "prefix": "t:"}}
    app, other = build_app(**sections), build_app(**sections)  # two workers
    driver, other_driver = Driver(app.test_client(), TOKEN), Driver(other.test_client(), TOKEN)
    before = [driver.text(f"o-before-{i}", QUESTION, msg_id=41_000 + i) for i in range(3)]
    assert all(map(_answered, before))

    own_redis.kill()
    during = [driver.text(f"o-during-{i}", QUESTION, msg_id=42_000 + i) for i in range(20)]
    assert all(map(_answered, during))
    # WeChat's retries meanwhile: the same worker remembers; another one answers again,
    # and the database's unique key records the message once.
    same = driver.text("o-during-0", QUESTION, msg_id=42_000)
    elsewhere = other_driver.text("o-during-1", QUESTION, msg_id=42_001)
    assert same.content == during[0].content and _answered(elsewhere)
    # A numbered list is still answered ("1" after the menu), from the worker's own state.
    driver.text("o-menu", "菜单", msg_id=43_000)
    assert driver.text("o-menu", "1", msg_id=43_001).status == 200

    settled(other)
    assert summary(app)["messages_received"] == 3 + 20 + 2
    lines = _outage_lines(caplog)
    assert len(lines) == 2, lines  # one per worker, not one per request
    assert all("unreachable" in line and f":{own_redis.port}" in line for line in lines)
    _no_traceback(caplog)

    own_redis.start()  # back on the same port, empty
    time.sleep(1.1)  # the worker leaves Redis alone for a second after a failure
    assert _answered(driver.text("o-after", QUESTION, msg_id=44_000))
    assert any("answers again" in line for line in _outage_lines(caplog))
    keys = {k.decode() for k in own_redis.client().scan_iter("t:*")}
    assert "t:dedupe:m:44000" in keys  # shared state again
    assert summary(app)["messages_received"] == 3 + 20 + 2 + 1


def test_a_paused_redis_never_holds_a_reply(build_app, own_redis, caplog):
    caplog.set_level(logging.WARNING)
    app = build_app(redis={"url": own_redis.url, "prefix": "t:"})
    driver = Driver(app.test_client(), TOKEN)
    assert _answered(driver.text("o-p", QUESTION, msg_id=45_000))
    own_redis.pause()
    try:
        took = []
        for i in range(12):
            started = time.monotonic()
            reply = driver.text(f"o-p{i}", QUESTION, msg_id=45_100 + i)
            took.append(time.monotonic() - started)
            assert _answered(reply)
            time.sleep(0.1)  # spread over more than a second: Redis is tried again meanwhile
    finally:
        own_redis.resume()
    assert max(took) < 1.0, took
    assert summary(app)["messages_received"] == 13
    assert len(_outage_lines(caplog)) == 1
    _no_traceback(caplog)


def test_nothing_listening_at_the_redis_port(build_app, caplog):
    caplog.set_level(logging.WARNING)
    app = build_app(redis={"url": f"redis://127.0.0.1:{free_port()}/0"})
    driver = Driver(app.test_client(), TOKEN)
    replies = [driver.text(f"o-n{i}", QUESTION, msg_id=46_000 + i) for i in range(5)]
    assert all(map(_answered, replies))
    assert driver.text("o-n0", QUESTION, msg_id=46_000).content == replies[0].content
    assert summary(app)["messages_received"] == 5
    assert len(_outage_lines(caplog)) == 1
    _no_traceback(caplog)
    assert app.test_client().get("/healthz").get_json()["redis"] == "error"


@pytest.fixture
def silent_port():
    """A port whose socket takes connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield sock.getsockname()[1]


def test_a_redis_that_accepts_and_never_answers(build_app, silent_port, caplog):
    caplog.set_level(logging.WARNING)
    app = build_app(redis={"url": f"redis://127.0.0.1:{silent_port}/0"})
    driver = Driver(app.test_client(), TOKEN)
    for i in range(5):
        started = time.monotonic()
        assert _answered(driver.text(f"o-s{i}", QUESTION, msg_id=47_000 + i))
        assert time.monotonic() - started < 1.0
    assert summary(app)["messages_received"] == 5
    assert len(_outage_lines(caplog)) == 1
    _no_traceback(caplog)


def test_a_long_outage_is_one_line_per_interval(caplog):
    caplog.set_level(logging.WARNING)
    dead = RedisState(redis_client(f"redis://127.0.0.1:{free_port()}/0"), "t:")
    state = Failover(dead, MemoryState(), retry_seconds=0.1, report_seconds=0.5)
    started = time.monotonic()
    while time.monotonic() - started < 1.3:
        assert state.claim("dedupe:k", "reply", 60).new in (True, False)
        state.set("conv:u", "[]", 60)
        time.sleep(0.01)
    lines = _outage_lines(caplog)
    assert 2 <= len(lines) <= 4, lines  # the start, then one per half second
    assert "unreachable" in lines[0] and all("still unreachable" in x for x in lines[1:])
    _no_traceback(caplog)
