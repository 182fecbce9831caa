"""Shared state without Redis: the WeChat access token is one per machine, kept in var/."""

from __future__ import annotations

import stat
import subprocess
import sys
import time

import redis

from bot.state import connect
from tests.conftest import ROOT


def test_processes_of_one_machine_share_the_access_token(tmp_path):
    first = connect("", var_dir=tmp_path).token_storage()
    first.set("wxapp_access_token", "TOKEN-1", 7200)
    # Another process (a `legalbot campaign send` beside `legalbot serve`) reads it.
    read = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from bot.state import connect; "
            "print(connect('', var_dir=Path(sys.argv[1])).token_storage().get('wxapp_access_token'))",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert read.stdout.strip() == "TOKEN-1"
    token_file = tmp_path / "wechat_token.json"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600  # a secret


def test_an_expired_token_is_not_handed_out(tmp_path):
    storage = connect("", var_dir=tmp_path).token_storage()
    storage.set("wxapp_access_token", "OLD", 1)
    storage.set("wxapp_other", "KEEP")
    time.sleep(1.1)
    assert storage.get("wxapp_access_token") is None
    assert storage.get("wxapp_access_token", "none") == "none"
    assert storage.get("wxapp_other") == "KEEP"
    storage.delete("wxapp_other")
    assert connect("", var_dir=tmp_path).token_storage().get("wxapp_other") is None


def test_memory_state_forgets_expired_keys_and_keeps_renewed_ones():
    from bot.state import MemoryState

    state = MemoryState()
    state.set("dedupe:old", "x", 0.05)
    state.set("dedupe:renewed", "x", 0.05)
    state.set("dedupe:renewed", "y", 60)  # set again: the first expiry no longer applies
    time.sleep(0.1)
    assert state.get("dedupe:old") is None
    assert state.set("dedupe:old", "z", 60, only_new=True)  # expired, so new again
    for n in range(1000):
        state.set(f"dedupe:{n}", "x", 0.01)
    time.sleep(0.05)
    state.set("dedupe:last", "x", 60)
    assert state.get("dedupe:renewed") == "y"
    assert len(state._data) == 3  # the thousand expired keys are gone, not just hidden


def test_a_retry_meanwhile_gets_the_reply_stored_without_waiting(redis_url, redis_prefix):
    """The webhook stores its reply with set_soon; a retry that reads first waits for it."""
    from bot.wechat import Deduper

    state = connect(redis_url, prefix=redis_prefix)
    other_worker = connect(redis_url, prefix=redis_prefix)
    deduper = Deduper(state, ttl=60)
    assert deduper.claim("m:1")
    assert not Deduper(other_worker, ttl=60).claim("m:1")  # the retry, in another worker
    deduper.finish("m:1", "<xml>reply</xml>")
    assert Deduper(other_worker, ttl=60).wait("m:1", budget=2) == "<xml>reply</xml>"
    assert state.drain(2)
    ttl_ms = redis.Redis.from_url(redis_url).pttl(redis_prefix + "dedupe:m:1")
    assert 0 < ttl_ms <= 60_000  # stored with its expiry, not forever


def test_writes_sent_later_all_arrive_and_the_last_write_of_a_key_wins(redis_url, redis_prefix):
    state = connect(redis_url, prefix=redis_prefix)
    for i in range(500):
        state.set_soon(f"k{i}", str(i), 30)
    state.set_soon("k0", "last", 30)  # a later write of the same key wins
    assert state.drain(5)
    assert [state.get(f"k{i}") for i in range(1, 500)] == [str(i) for i in range(1, 500)]
    assert state.get("k0") == "last"


def test_redis_down_when_writes_are_sent_is_logged_not_raised(caplog):
    state = connect("redis://127.0.0.1:1/0")  # nothing listens there
    state.set_soon("dedupe:m:2", "<xml/>", 30)
    assert state.drain(10)
    assert "1 stored replies not written to Redis" in caplog.text
