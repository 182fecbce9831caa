"""Answers that miss WeChat's deadline go out as customer-service messages.

The slowness is real: the app's Redis sits behind a loopback proxy that delays every
command, or another connection holds SQLite's write lock. The WeChat API is the
loopback fake (tests/wxfake.py).
"""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from tests.conftest import TOKEN, summary
from tests.slowproxy import SlowProxy
from tests.wxdriver import Driver
from tests.wxfake import FakeWeChat

QUESTION = "老板拖了三个月工资不给咋办"


@pytest.fixture
def wechat_api():
    with FakeWeChat(appid="wxlate", secret="late-secret", followers=["o-late", "o-late2"]) as fake:
        yield fake


def _hold_write_lock(db_path: str, seconds: float) -> threading.Thread:
    ready = threading.Event()

    def hold():
        conn = sqlite3.connect(db_path, timeout=5)
        conn.execute("BEGIN IMMEDIATE")
        ready.set()
        time.sleep(seconds)
        conn.rollback()
        conn.close()

    thread = threading.Thread(target=hold)
    thread.start()
    ready.wait(5)
    return thread


def _wait_for(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.fixture
def slow_redis(redis_url):
    """The real Redis behind a proxy that can delay every command."""
    proxy = SlowProxy(("127.0.0.1", 6379))
    yield proxy
    proxy.close()


def _slow_answer_app(build_app, wechat_api, slow_redis, redis_prefix):
    return build_app(
        server={"answer_budget_seconds": 0.3},
        redis={"url": slow_redis.url(), "prefix": redis_prefix},
        wechat={"appid": "wxlate", "secret": "late-secret", "api_base": wechat_api.base_url},
    )


def test_slow_answer_is_sent_as_customer_service_message(
    build_app, wechat_api, slow_redis, redis_prefix
):
    app = _slow_answer_app(build_app, wechat_api, slow_redis, redis_prefix)
    driver = Driver(app.test_client(), TOKEN)
    slow_redis.delay = 0.4  # every state lookup now takes longer than the whole budget
    reply = driver.text("o-late", QUESTION, msg_id=880001)
    slow_redis.delay = 0
    assert reply.body == "success"
    _wait_for(lambda: wechat_api.sent)
    assert len(wechat_api.sent) == 1
    openid, msgtype, content = wechat_api.sent[0][:3]
    assert (openid, msgtype) == ("o-late", "text")
    assert "工资" in content
    assert summary(app)["messages_received"] == 1


def test_retry_after_a_late_answer_gets_success_not_a_second_copy(
    build_app, wechat_api, slow_redis, redis_prefix
):
    app = _slow_answer_app(build_app, wechat_api, slow_redis, redis_prefix)
    driver = Driver(app.test_client(), TOKEN)
    slow_redis.delay = 0.4
    assert driver.text("o-late2", QUESTION, msg_id=880002).body == "success"
    slow_redis.delay = 0
    assert driver.text("o-late2", QUESTION, msg_id=880002).body == "success"
    _wait_for(lambda: wechat_api.sent)
    time.sleep(0.3)
    assert len(wechat_api.sent) == 1
    assert summary(app)["messages_received"] == 1


def test_a_locked_database_does_not_hold_the_reply(build_app, wechat_api, tmp_path):
    app = build_app(
        server={"answer_budget_seconds": 0.3},
        wechat={"appid": "wxlate", "secret": "late-secret", "api_base": wechat_api.base_url},
    )
    driver = Driver(app.test_client(), TOKEN)
    holder = _hold_write_lock(f"{tmp_path}/legalbot.db", 1.5)
    started = time.monotonic()
    reply = driver.text("o-locked", QUESTION, msg_id=880003)
    elapsed = time.monotonic() - started
    assert "工资" in (reply.content or "")
    assert elapsed < 1.0
    assert summary(app, settle=False)["messages_received"] == 0  # the lock is still held
    holder.join()
    _wait_for(lambda: summary(app, settle=False)["messages_received"] == 1)
    assert summary(app)["messages_received"] == 1
    assert wechat_api.sent == []  # the passive reply was enough
