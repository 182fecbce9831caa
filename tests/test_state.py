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


def test_a_retry_in_another_worker_gets_the_first_reply(redis_url, redis_prefix):
    """The first request claims the key with its reply in one write; a retry reads it."""
    from bot.inbox import Deduper

    first = Deduper(connect(redis_url, prefix=redis_prefix), ttl=60)
    other_worker = Deduper(connect(redis_url, prefix=redis_prefix), ttl=60)
    assert first.claim("m:1", "the reply").new
    retry = other_worker.claim("m:1", "another answer")
    assert not retry.new and retry.stored == "the reply"  # one round trip tells both
    assert other_worker.stored("m:1") == "the reply"
    first.replace("m:1", None)  # the answer went out late: retries now get `success`
    assert other_worker.stored("m:1") is None
    ttl_ms = redis.Redis.from_url(redis_url).pttl(redis_prefix + "dedupe:m:1")
    assert 0 < ttl_ms <= 60_000  # stored with its expiry, not forever


def test_without_redis_the_first_reply_is_kept_until_it_expires():
    from bot.inbox import Deduper

    deduper = Deduper(connect(""), ttl=0.05)
    assert deduper.claim("m:2", None).new
    retry = deduper.claim("m:2", "another")
    assert not retry.new and not retry.stored  # no passive reply: `success`
    assert deduper.stored("m:2") is None
    time.sleep(0.1)
    assert deduper.claim("m:2", "another").new  # expired: handled afresh
