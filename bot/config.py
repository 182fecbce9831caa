"""Configuration: config.toml plus LEGALBOT_* overrides, read once into frozen dataclasses.

Every problem is reported as one line naming the key, so an operator fixes the file
without reading a traceback. Modules receive the values they need, not the environment.
"""

from __future__ import annotations

import os
import re
import secrets
import time
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import limits

from .errors import ConfigError

ENV_OVERRIDES = {
    "LEGALBOT_DATABASE_URL": ("database", "url"),
    "LEGALBOT_REDIS_URL": ("redis", "url"),
    "LEGALBOT_SECRET_KEY": ("security", "secret_key"),
    "LEGALBOT_TIMEZONE": ("general", "timezone"),
    "LEGALBOT_WECHAT_TOKEN": ("wechat", "token"),
    "LEGALBOT_WECHAT_APPID": ("wechat", "appid"),
    "LEGALBOT_WECHAT_SECRET": ("wechat", "secret"),
    "LEGALBOT_WECHAT_AES_KEY": ("wechat", "aes_key"),
    "LEGALBOT_WECHAT_API_BASE": ("wechat", "api_base"),
}

DEFAULTS: dict[str, dict[str, Any]] = {
    "server": {
        "host": "127.0.0.1",
        "port": 8000,
        "max_body_bytes": 65536,
        "answer_budget_seconds": 4.0,
        "log_level": "INFO",
    },
    "database": {"url": "sqlite:///var/legalbot.db"},
    "redis": {"url": "", "prefix": "legalbot:"},
    "security": {"secret_key": ""},
    "general": {"timezone": "Asia/Shanghai", "var_dir": "var"},
    "wechat": {
        "token": "",
        "appid": "",
        "secret": "",
        "aes_key": "",
        "api_base": "https://api.weixin.qq.com/cgi-bin/",
        "dedupe_seconds": 300,
    },
    "knowledge": {
        "content_dir": "content",
        "answer_threshold": 0.55,
        "suggest_threshold": 0.3,
        "conversation_minutes": 30,
        "reload_check_seconds": 5,
    },
    "town": {
        "name": "甘河滩镇",
        "mediation": "镇人民调解委员会",
        "police_mediation": "派出所调解室",
        "legal_aid": "区法律援助中心",
        "justice_office": "镇司法所",
        "committees": "20",
    },
    "console": {"login_rate_limit": "10 per minute", "session_minutes": 480},
    "stats": {"retention_days": 400},
    "campaigns": {
        "rate_per_second": 20,
        "concurrency": 4,
        "max_parallel_campaigns": 2,
        "misfire_grace_seconds": 900,
        "poll_seconds": 10,
        "retry_attempts": 4,
        "retry_backoff_seconds": 1.0,
        "lock_ttl_seconds": 30,
        "request_timeout_seconds": 10.0,
        "send_time": "09:00",
        "plan_audience": "all",
    },
}


@dataclass(frozen=True)
class WeChatSettings:
    token: str
    appid: str
    secret: str
    aes_key: str
    api_base: str
    dedupe_seconds: int


@dataclass(frozen=True)
class KnowledgeSettings:
    content_dir: Path
    answer_threshold: float
    suggest_threshold: float
    conversation_minutes: int
    reload_check_seconds: float


@dataclass(frozen=True)
class StatsSettings:
    # Raw events older than this many days are rolled up into daily counts and deleted
    # (`legalbot stats rollup`); 0 keeps them forever.
    retention_days: int = 400


@dataclass(frozen=True)
class CampaignSettings:
    """[campaigns]: how the scheduler and the sender behave (README, Campaigns)."""

    rate_per_second: int = 20
    concurrency: int = 4
    max_parallel_campaigns: int = 2
    misfire_grace_seconds: int = 900
    poll_seconds: float = 10
    retry_attempts: int = 4
    retry_backoff_seconds: float = 1.0
    lock_ttl_seconds: float = 30
    request_timeout_seconds: float = 10.0
    send_time: str = "09:00"
    plan_audience: str = "all"


@dataclass(frozen=True)
class Config:
    path: Path | None
    host: str
    port: int
    max_body_bytes: int
    answer_budget_seconds: float
    log_level: str
    database_url: str
    redis_url: str
    redis_prefix: str
    secret_key: str
    timezone: str
    var_dir: Path
    wechat: WeChatSettings
    knowledge: KnowledgeSettings
    town: Mapping[str, str] = field(default_factory=dict)
    login_rate_limit: str = "10 per minute"
    session_minutes: int = 480
    stats: StatsSettings = field(default_factory=StatsSettings)
    campaigns: CampaignSettings = field(default_factory=CampaignSettings)

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


def load(
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Config:
    """Read the config file and the environment; raise ConfigError listing every bad key.

    `overrides` ({section: {key: value}}) win over both; tests use them to build an app.
    """
    environ = os.environ if environ is None else environ
    file_path = Path(path or environ.get("LEGALBOT_CONFIG") or "config.toml")
    raw = _read_file(file_path, explicit=bool(path or environ.get("LEGALBOT_CONFIG")))
    problems: list[str] = []
    merged: dict[str, dict[str, Any]] = {s: dict(v) for s, v in DEFAULTS.items()}
    for section, values in raw.items():
        if section not in DEFAULTS:
            problems.append(f"{section}: unknown section in {file_path}")
            continue
        if not isinstance(values, dict):
            problems.append(f"{section}: must be a table ([{section}])")
            continue
        for key, value in values.items():
            if key not in DEFAULTS[section] and section != "town":
                problems.append(f"{section}.{key}: unknown setting")
            merged[section][key] = value
    for var, (section, key) in ENV_OVERRIDES.items():
        if var in environ:
            merged[section][key] = environ[var]
    for section, values in (overrides or {}).items():
        merged.setdefault(section, {}).update(values)
    config = _build(merged, file_path if raw else None, problems)
    if problems:
        raise ConfigError("\n".join(f"config: {p}" for p in problems))
    return config


def _read_file(path: Path, explicit: bool) -> dict[str, Any]:
    if not path.exists():
        if explicit:
            raise ConfigError(f"config: LEGALBOT_CONFIG: file {path} does not exist")
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config: {path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"config: {path}: cannot be read ({exc.strerror})") from None


class _Reader:
    """Typed reads from the merged settings that note a problem instead of raising."""

    def __init__(self, merged: dict[str, dict[str, Any]], problems: list[str]):
        self.merged = merged
        self.problems = problems

    def str(self, section: str, key: str) -> str:
        value = self.merged[section][key]
        if not isinstance(value, str):
            self.problems.append(f"{section}.{key}: must be a string, got {value!r}")
            return str(DEFAULTS[section][key])
        return value.strip()

    def number(self, section: str, key: str, kind: type, low: float, high: float) -> Any:
        value = self.merged[section][key]
        try:
            if isinstance(value, bool):
                raise ValueError
            number = kind(value)
        except (TypeError, ValueError):
            self.problems.append(f"{section}.{key}: must be a number, got {value!r}")
            return DEFAULTS[section][key]
        if not low <= number <= high:
            self.problems.append(f"{section}.{key}: must be between {low} and {high}, got {number}")
            return DEFAULTS[section][key]
        return number


def _build(merged: dict[str, dict[str, Any]], path: Path | None, problems: list[str]) -> Config:
    r = _Reader(merged, problems)
    var_dir = Path(r.str("general", "var_dir") or "var")
    timezone = r.str("general", "timezone")
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problems.append(f"general.timezone (LEGALBOT_TIMEZONE): unknown time zone {timezone!r}")
        timezone = "Asia/Shanghai"
    wechat = WeChatSettings(
        token=r.str("wechat", "token"),
        appid=r.str("wechat", "appid"),
        secret=r.str("wechat", "secret"),
        aes_key=r.str("wechat", "aes_key"),
        api_base=r.str("wechat", "api_base"),
        dedupe_seconds=r.number("wechat", "dedupe_seconds", int, 30, 86400),
    )
    _check_wechat(wechat, problems)
    knowledge = KnowledgeSettings(
        content_dir=Path(r.str("knowledge", "content_dir") or "content"),
        answer_threshold=r.number("knowledge", "answer_threshold", float, 0.0, 1.0),
        suggest_threshold=r.number("knowledge", "suggest_threshold", float, 0.0, 1.0),
        conversation_minutes=r.number("knowledge", "conversation_minutes", int, 1, 1440),
        reload_check_seconds=r.number("knowledge", "reload_check_seconds", float, 1, 3600),
    )
    if knowledge.suggest_threshold > knowledge.answer_threshold:
        problems.append("knowledge.suggest_threshold: must not exceed knowledge.answer_threshold")
    database_url = r.str("database", "url")
    if not re.match(r"^[a-z][a-z0-9+]*://", database_url):
        problems.append(
            f"database.url (LEGALBOT_DATABASE_URL): not a SQLAlchemy URL: {database_url!r}"
        )
    redis_url = r.str("redis", "url")
    if redis_url and not re.match(r"^(redis|rediss|unix)://", redis_url):
        problems.append(
            f"redis.url (LEGALBOT_REDIS_URL): must start with redis://, got {redis_url!r}"
        )
    log_level = r.str("server", "log_level").upper()
    if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        problems.append(
            f"server.log_level: must be DEBUG, INFO, WARNING or ERROR, got {log_level!r}"
        )
        log_level = "INFO"
    login_rate_limit = r.str("console", "login_rate_limit")
    try:
        limits.parse(login_rate_limit)
    except ValueError:
        problems.append(
            f"console.login_rate_limit: must read like '10 per minute', got {login_rate_limit!r}"
        )
        login_rate_limit = DEFAULTS["console"]["login_rate_limit"]
    town = {k: str(v) for k, v in merged["town"].items()}
    campaigns = _campaigns(r, problems)
    return Config(
        path=path,
        host=r.str("server", "host"),
        port=r.number("server", "port", int, 1, 65535),
        max_body_bytes=r.number("server", "max_body_bytes", int, 1024, 16 * 1024 * 1024),
        answer_budget_seconds=r.number("server", "answer_budget_seconds", float, 0.05, 4.8),
        log_level=log_level,
        database_url=database_url,
        redis_url=redis_url,
        redis_prefix=r.str("redis", "prefix"),
        secret_key=r.str("security", "secret_key"),
        timezone=timezone,
        var_dir=var_dir,
        wechat=wechat,
        knowledge=knowledge,
        town=town,
        login_rate_limit=login_rate_limit,
        session_minutes=r.number("console", "session_minutes", int, 5, 10080),
        campaigns=campaigns,
        stats=_stats_settings(r, problems),
    )


def _campaigns(r: _Reader, problems: list[str]) -> CampaignSettings:
    s = "campaigns"
    settings = CampaignSettings(
        rate_per_second=r.number(s, "rate_per_second", int, 1, 10000),
        concurrency=r.number(s, "concurrency", int, 1, 64),
        max_parallel_campaigns=r.number(s, "max_parallel_campaigns", int, 1, 16),
        misfire_grace_seconds=r.number(s, "misfire_grace_seconds", int, 1, 7 * 86400),
        # CONTRACT.md: a running scheduler picks a change up within 30 s.
        poll_seconds=r.number(s, "poll_seconds", float, 0.2, 30),
        retry_attempts=r.number(s, "retry_attempts", int, 1, 10),
        retry_backoff_seconds=r.number(s, "retry_backoff_seconds", float, 0, 60),
        lock_ttl_seconds=r.number(s, "lock_ttl_seconds", float, 1, 600),
        request_timeout_seconds=r.number(s, "request_timeout_seconds", float, 0.5, 60),
        send_time=r.str(s, "send_time"),
        plan_audience=r.str(s, "plan_audience"),
    )
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", settings.send_time):
        problems.append(
            f"campaigns.send_time: must be HH:MM (24-hour clock), got {settings.send_time!r}"
        )
    if not re.fullmatch(r"all|active48h|tag:\d+", settings.plan_audience):
        problems.append(
            "campaigns.plan_audience: must be all, active48h or tag:ID, "
            f"got {settings.plan_audience!r}"
        )
    return settings


def _stats_settings(r: _Reader, problems: list[str]) -> StatsSettings:
    """The roll-up needs campaign windows (72 h) closed before their events go: 0 or >= 7."""
    days = r.number("stats", "retention_days", int, 0, 36500)
    if 0 < days < 7:
        problems.append(
            f"stats.retention_days: must be 0 (keep raw events) or at least 7, got {days}"
        )
        days = DEFAULTS["stats"]["retention_days"]
    return StatsSettings(retention_days=days)


def _check_wechat(w: WeChatSettings, problems: list[str]) -> None:
    if not re.fullmatch(r"[A-Za-z0-9]{3,32}", w.token):
        problems.append(
            "wechat.token (LEGALBOT_WECHAT_TOKEN): must be 3 to 32 letters or digits, "
            f"as on the WeChat platform; got {w.token!r}"
        )
    if w.aes_key:
        if not re.fullmatch(r"[A-Za-z0-9]{43}", w.aes_key):
            problems.append(
                "wechat.aes_key (LEGALBOT_WECHAT_AES_KEY): must be 43 letters or digits "
                f"(EncodingAESKey), got {len(w.aes_key)} characters"
            )
        if not w.appid:
            problems.append(
                "wechat.appid (LEGALBOT_WECHAT_APPID): required when wechat.aes_key is set"
            )
    if not re.match(r"^https?://", w.api_base):
        problems.append(
            f"wechat.api_base (LEGALBOT_WECHAT_API_BASE): must be an http(s) URL, got {w.api_base!r}"
        )


def ensure_secret_key(config: Config) -> str:
    """The configured secret key, or one generated on first start and kept under var/."""
    if config.secret_key:
        return config.secret_key
    key_file = config.var_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    config.var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker generated it a moment ago
        time.sleep(0.05)
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key
