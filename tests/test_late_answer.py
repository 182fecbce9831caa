"""Answers that miss WeChat's deadline go out as customer-service messages.

The slowness is real: another connection holds SQLite's write lock, so recording the
interaction waits. The WeChat API is the loopback fake (tests/wxfake.py).
"""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from tests.conftest import TOKEN, summary
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


def _slow_app(build_app, wechat_api, tmp_path):
    return build_app(
        server={"answer_budget_seconds": 0.3},
        wechat={"appid": "wxlate", "secret": "late-secret", "api_base": wechat_api.base_url},
    )


def test_slow_answer_is_sent_as_customer_service_message(build_app, wechat_api, tmp_path):
    app = _slow_app(build_app, wechat_api, tmp_path)
    driver = Driver(app.test_client(), TOKEN)
    holder = _hold_write_lock(f"{tmp_path}/legalbot.db", 1.5)
    started = time.monotonic()
    reply = driver.text("o-late", QUESTION, msg_id=880001)
    elapsed = time.monotonic() - started
    assert reply.body == "success"
    assert elapsed < 1.0
    holder.join()
    deadline = time.monotonic() + 10
    while not wechat_api.sent and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(wechat_api.sent) == 1
    openid, msgtype, content = wechat_api.sent[0][:3]
    assert (openid, msgtype) == ("o-late", "text")
    assert "工资" in content
    assert summary(app)["messages_received"] == 1


def test_retry_after_a_late_answer_gets_success_not_a_second_copy(build_app, wechat_api, tmp_path):
    app = _slow_app(build_app, wechat_api, tmp_path)
    driver = Driver(app.test_client(), TOKEN)
    holder = _hold_write_lock(f"{tmp_path}/legalbot.db", 1.0)
    assert driver.text("o-late2", QUESTION, msg_id=880002).body == "success"
    holder.join()
    assert driver.text("o-late2", QUESTION, msg_id=880002).body == "success"
    deadline = time.monotonic() + 10
    while not wechat_api.sent and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    assert len(wechat_api.sent) == 1
    assert summary(app)["messages_received"] == 1
