"""What the campaign tests share: configurations pointing at the loopback WeChat fake,
followers in the database, the `legalbot` command as a subprocess, and waiting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from bot import config as config_module
from bot import records
from bot.records import schema
from tests.conftest import APPID, ROOT, TOKEN, make_config
from tests.wxfake import FakeWeChat, fake_openid

SECRET = "s3cret"
SECRET_KEY = "campaign-test-secret"
FAST = {
    "poll_seconds": 0.5,
    "lock_ttl_seconds": 3,
    "retry_backoff_seconds": 0.05,
    "rate_per_second": 1000,
    "misfire_grace_seconds": 60,
}


def make_fake(n: int = 5) -> FakeWeChat:
    """The WeChat fake (not started: `with make_fake(n) as fake`) with `n` followers,
    OpenIDs fake_openid(0) … fake_openid(n - 1)."""
    return FakeWeChat(appid=APPID, secret=SECRET, followers=[fake_openid(i) for i in range(n)])


def sections(
    tmp_path: Path,
    fake: FakeWeChat,
    db_url: str | None = None,
    redis: tuple | None = None,
    **campaigns,
) -> dict:
    """Config sections for a test: its database, the fake as WeChat, fast campaign timing."""
    values = {
        "database": {"url": db_url or f"sqlite:///{tmp_path}/campaigns.db"},
        "security": {"secret_key": SECRET_KEY},
        "general": {"var_dir": str(tmp_path / "var")},
        "wechat": {
            "token": TOKEN,
            "appid": APPID,
            "secret": SECRET,
            "aes_key": "",
            "api_base": fake.base_url,
        },
        "knowledge": {"content_dir": str(ROOT / "content")},
        "campaigns": FAST | campaigns,
    }
    if redis:
        values["redis"] = {"url": redis[0], "prefix": redis[1]}
    return values


def config_for(tmp_path: Path, fake: FakeWeChat, **kw) -> config_module.Config:
    """A loaded Config (schema upgraded) for in-process tests."""
    config = make_config(tmp_path, **sections(tmp_path, fake, **kw))
    engine = records.make_engine(config.database_url)
    schema.upgrade(engine)
    engine.dispose()
    return config


def write_config(tmp_path: Path, fake: FakeWeChat, **kw) -> dict[str, str]:
    """A config.toml for subprocesses; the environment that makes `legalbot` read it."""
    lines = []
    for section, values in sections(tmp_path, fake, **kw).items():
        lines.append(f"[{section}]")
        lines += [
            f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in values.items()
        ]
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LEGALBOT_")}
    return environ | {"LEGALBOT_CONFIG": str(path)}


# The `legalbot` command of this interpreter's environment, whatever PATH says.
LEGALBOT = [sys.executable, "-m", "bot.cli"]


def legalbot(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*LEGALBOT, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def spawn(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*LEGALBOT, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def add_followers(config, openids, active: bool = True, subscribed: bool = True) -> None:
    """Followers as the webhook records them: within the 48-hour window, or 3 days out."""
    at = records.now() - (timedelta(minutes=5) if active else timedelta(days=3))
    engine = records.make_engine(config.database_url)
    with engine.begin() as conn:
        for openid in openids:
            conn.execute(
                records.Follower.__table__.insert().values(
                    openid=openid,
                    user_id=records.pseudonym(SECRET_KEY, openid),
                    subscribed=subscribed,
                    last_interaction_at=at,
                    created_at=at,
                )
            )
    engine.dispose()


def soon(seconds: float, tz) -> str:
    """An ISO time `seconds` from now, without offset (so in the configured zone)."""
    return (
        (datetime.now(tz) + timedelta(seconds=seconds))
        .replace(tzinfo=None)
        .isoformat(timespec="seconds")
    )


def wait_for(predicate, timeout: float = 20, interval: float = 0.05):
    """Poll `predicate` until it returns something true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)
