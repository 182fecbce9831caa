"""Configuration: defaults, environment overrides, and one clear line per bad key."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot import config as config_module
from bot.errors import ConfigError
from tests.conftest import ROOT


def test_defaults_match_the_contract(tmp_path):
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    config = config_module.load(empty, environ={"LEGALBOT_WECHAT_TOKEN": "tok"})
    assert config.database_url == "sqlite:///var/legalbot.db"
    assert config.redis_url == ""
    assert config.timezone == "Asia/Shanghai"
    assert config.wechat.api_base == "https://api.weixin.qq.com/cgi-bin/"
    assert config.wechat.aes_key == ""
    assert config.max_body_bytes == 65536
    assert config.answer_budget_seconds == 4.0


def test_environment_overrides_the_file():
    environ = {
        "LEGALBOT_DATABASE_URL": "postgresql+psycopg://u@127.0.0.1/db",
        "LEGALBOT_REDIS_URL": "redis://127.0.0.1:6379/3",
        "LEGALBOT_SECRET_KEY": "k",
        "LEGALBOT_TIMEZONE": "Asia/Urumqi",
        "LEGALBOT_WECHAT_TOKEN": "tok123",
        "LEGALBOT_WECHAT_APPID": "wxapp",
        "LEGALBOT_WECHAT_SECRET": "sec",
        "LEGALBOT_WECHAT_AES_KEY": "a" * 43,
        "LEGALBOT_WECHAT_API_BASE": "http://127.0.0.1:9/cgi-bin/",
    }
    config = config_module.load(ROOT / "config.toml", environ=environ)
    assert config.database_url == environ["LEGALBOT_DATABASE_URL"]
    assert config.redis_url == environ["LEGALBOT_REDIS_URL"]
    assert config.secret_key == "k"
    assert config.timezone == "Asia/Urumqi"
    assert (config.wechat.token, config.wechat.appid, config.wechat.secret) == (
        "tok123",
        "wxapp",
        "sec",
    )
    assert config.wechat.aes_key == "a" * 43
    assert config.wechat.api_base == "http://127.0.0.1:9/cgi-bin/"


def test_legalbot_config_names_the_file(tmp_path):
    path = tmp_path / "other.toml"
    path.write_text('[wechat]\ntoken = "fromother"\n')
    config = config_module.load(environ={"LEGALBOT_CONFIG": str(path)})
    assert config.wechat.token == "fromother"
    with pytest.raises(ConfigError, match="LEGALBOT_CONFIG"):
        config_module.load(environ={"LEGALBOT_CONFIG": str(tmp_path / "missing.toml")})


def test_every_bad_key_is_reported_on_its_own_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(
        '[server]\nport = "eighty"\nmax_body_bytes = -1\n'
        '[wechat]\ntoken = "a b"\naes_key = "short"\n'
        "[knowledge]\nanswer_threshold = 2\n"
        '[console]\nlogin_rate_limit = "lots"\n'
        "[nonsense]\nx = 1\n"
    )
    with pytest.raises(ConfigError) as caught:
        config_module.load(path, environ={"LEGALBOT_TIMEZONE": "Mars/Olympus"})
    lines = str(caught.value).splitlines()
    for key in (
        "server.port",
        "server.max_body_bytes",
        "wechat.token",
        "wechat.aes_key",
        "wechat.appid",
        "knowledge.answer_threshold",
        "console.login_rate_limit",
        "nonsense",
        "general.timezone",
    ):
        assert sum(line.startswith(f"config: {key}") for line in lines) == 1, (key, lines)


def test_broken_toml_is_one_line(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("[server\nport = 1")
    with pytest.raises(ConfigError) as caught:
        config_module.load(path, environ={})
    assert len(str(caught.value).splitlines()) == 1


def test_bad_setting_stops_the_start_without_a_traceback(tmp_path):
    env = {**os.environ, "LEGALBOT_WECHAT_AES_KEY": "tooshort", "LEGALBOT_DATABASE_URL": "nonsense"}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert any("wechat.aes_key" in line for line in lines)
    assert any("database.url" in line for line in lines)


def test_secret_key_is_generated_once_and_kept(tmp_path):
    config = config_module.load(
        ROOT / "config.toml", environ={}, overrides={"general": {"var_dir": str(tmp_path / "var")}}
    )
    first = config_module.ensure_secret_key(config)
    assert len(first) == 64
    assert config_module.ensure_secret_key(config) == first
    assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o077 == 0
