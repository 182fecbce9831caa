"""Every setting, declared once: its section and key, type and default, bounds or rule,
environment variable and the comment config.toml carries.

config.toml is this table written out (`python -m bot.config > config.toml`; a test
checks they agree, and that the README's tables name the same variables and defaults).
The typed sections the rest of the code reads (Config, WeChatSettings …) are made from
it in loader.py, and so is the validation: adding a setting is one row here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .checks import Check, pattern, rate_limit, retention, timezone


@dataclass(frozen=True)
class Setting:
    section: str
    key: str
    default: Any  # its type is the setting's (str, int, float, Path)
    comment: str = ""  # the lines config.toml has above it
    env: str | None = None  # the LEGALBOT_* variable that overrides it
    low: float | None = None
    high: float | None = None
    check: Check | None = None
    clean: Callable[[str], str] = str.strip  # what a text value becomes before its check
    attr: str | None = None  # its name on Config when its section is flat (default: key)

    @property
    def name(self) -> str:
        return f"{self.section}.{self.key}"

    @property
    def kind(self) -> type:
        return Path if isinstance(self.default, Path) else type(self.default)

    @property
    def label(self) -> str:
        """How problems name it: `wechat.token (LEGALBOT_WECHAT_TOKEN)`."""
        return f"{self.name} ({self.env})" if self.env else self.name


HEADER = """\
legalbot configuration. Every setting has a default; environment variables named in
the comments (LEGALBOT_*) override the file. A bad value stops the start with one
line naming the key. Relative paths are relative to the directory you start from.
This file is bot/config/settings.py written out (`python -m bot.config`)."""

# Sections whose settings are attributes of Config itself (config.host, config.database_url);
# the others are typed sub-objects (config.wechat.token), and [town] is an open mapping.
FLAT = ("server", "database", "redis", "security", "general", "console")
SECTION_COMMENTS = {
    "town": """\
Local facts used in answers (content/help.toml). No phone number is hard-coded: put
the real ones here, e.g. "甘河滩镇人民调解委员会（镇政府一楼，电话0971-xxxxxxx）".
Keys beyond these are allowed: an answer names them as {town_KEY}.""",
    "campaigns": "Legal-publicity campaigns (README, Campaigns). The time zone is general.timezone.",
    "mediation": """\
People's mediation (README, 人民调解): the town's committee as cases and replies name it;
the villages with a committee of their own, so residents pick theirs by number; the
working days within which a mediator contacts a resident who asked on the account;
minutes a request left half-way is kept; days after a case closes until its phone
number and description are deleted (the nightly roll-up; every count stays).""",
}

S = Setting
SETTINGS: tuple[Setting, ...] = (
    S("server", "host", "127.0.0.1", "Address and port `legalbot serve` listens on."),
    S("server", "port", 8000, low=1, high=65535),
    S(
        "server",
        "max_body_bytes",
        65536,
        "Largest request body accepted on /wechat; bigger ones get 413. WeChat messages are a\n"
        "few KiB at most.",
        low=1024,
        high=16 * 1024 * 1024,
    ),
    S(
        "server",
        "answer_budget_seconds",
        4.0,
        'Seconds the webhook may spend answering before it replies "success" and sends the\n'
        "answer as a customer-service message instead. WeChat gives up after 5 s and retries.",
        low=0.05,
        high=4.8,
    ),
    S(
        "server",
        "log_level",
        "INFO",
        "Log level: DEBUG, INFO, WARNING or ERROR.",
        clean=lambda value: value.strip().upper(),
        check=pattern(
            "DEBUG|INFO|WARNING|ERROR", "must be DEBUG, INFO, WARNING or ERROR, got {value!r}"
        ),
    ),
    S(
        "database",
        "url",
        "sqlite:///var/legalbot.db",
        "SQLAlchemy URL (LEGALBOT_DATABASE_URL). SQLite under var/ by default;\n"
        'e.g. "postgresql+psycopg://legalbot@127.0.0.1/legalbot" for production.',
        env="LEGALBOT_DATABASE_URL",
        check=pattern(r"[a-z][a-z0-9+]*://.*", "not a SQLAlchemy URL: {value!r}"),
        attr="database_url",
    ),
    S(
        "redis",
        "url",
        "",
        'Redis URL (LEGALBOT_REDIS_URL), e.g. "redis://127.0.0.1:6379/0". Empty: state is kept\n'
        "in the process, which is correct for ONE process only (legalbot serve, or gunicorn -w 1).",
        env="LEGALBOT_REDIS_URL",
        check=pattern(r"|(redis|rediss|unix)://.*", "must start with redis://, got {value!r}"),
        attr="redis_url",
    ),
    S(
        "redis",
        "prefix",
        "legalbot:",
        "Prefix of every key legalbot writes, so several deployments can share one Redis.",
        attr="redis_prefix",
    ),
    S(
        "security",
        "secret_key",
        "",
        "Signs console sessions and pseudonymises user ids (LEGALBOT_SECRET_KEY). Empty: a\n"
        "random key is generated on first start and kept in var/secret_key. Changing it\n"
        "changes every pseudonymous id, so set it once.",
        env="LEGALBOT_SECRET_KEY",
    ),
    S(
        "general",
        "timezone",
        "Asia/Shanghai",
        "Time zone of campaigns and statistics (LEGALBOT_TIMEZONE).",
        env="LEGALBOT_TIMEZONE",
        check=timezone,
    ),
    S(
        "general",
        "var_dir",
        Path("var"),
        "Folder for the generated secret key, the default SQLite file, the shared WeChat\n"
        "access token and the interaction journal (var/journal: what is answered but not yet\n"
        "committed to the database). Every process of one deployment on a machine uses the same.",
    ),
    S(
        "wechat",
        "token",
        "",
        "Token set on the WeChat platform's server configuration page (LEGALBOT_WECHAT_TOKEN), 3\n"
        "to 32 letters or digits. Empty: made on first start, kept in var/webhook_token (quick start).",
        env="LEGALBOT_WECHAT_TOKEN",
        check=pattern(
            "|[A-Za-z0-9]{3,32}",
            "must be 3 to 32 letters or digits, as on the WeChat platform; got {value!r}",
        ),
    ),
    S(
        "wechat",
        "appid",
        "",
        "AppID and AppSecret of the official account (LEGALBOT_WECHAT_APPID,\n"
        "LEGALBOT_WECHAT_SECRET). Needed for customer-service messages and campaigns.",
        env="LEGALBOT_WECHAT_APPID",
    ),
    S("wechat", "secret", "", env="LEGALBOT_WECHAT_SECRET"),
    S(
        "wechat",
        "aes_key",
        "",
        "EncodingAESKey, 43 characters (LEGALBOT_WECHAT_AES_KEY). Empty: plaintext mode.\n"
        "Set it for compatible or safe (AES) mode; the AppID is then required.",
        env="LEGALBOT_WECHAT_AES_KEY",
        check=lambda v: None
        if not v or re.fullmatch("[A-Za-z0-9]{43}", v)
        else f"must be 43 letters or digits (EncodingAESKey), got {len(v)} characters",
    ),
    S(
        "wechat",
        "api_base",
        "https://api.weixin.qq.com/cgi-bin/",
        "Base URL of the WeChat API (LEGALBOT_WECHAT_API_BASE). Change only for testing.",
        env="LEGALBOT_WECHAT_API_BASE",
        check=pattern(r"https?://.*", "must be an http(s) URL, got {value!r}"),
    ),
    S(
        "wechat",
        "dedupe_seconds",
        300,
        "Seconds a message id is remembered, so WeChat's retries (3 within 15 s) get the same\n"
        "reply and are recorded once.",
        low=30,
        high=86400,
    ),
    S(
        "knowledge",
        "content_dir",
        Path("content"),
        "Folder of the knowledge base (content/README.md describes it).",
    ),
    S(
        "knowledge",
        "answer_threshold",
        0.5,
        "Confidence (0..1) from which an entry is answered directly.",
        low=0.0,
        high=1.0,
    ),
    S(
        "knowledge",
        "suggest_threshold",
        0.3,
        'Confidence from which "您是不是想问" lists up to three titles; below it the resident\n'
        "gets the honest fallback with where to get help. At most answer_threshold.",
        low=0.0,
        high=1.0,
    ),
    S(
        "knowledge",
        "conversation_minutes",
        30,
        "Minutes a numbered list (menu, suggestions) stays open for a reply with its number.",
        low=1,
        high=1440,
    ),
    S(
        "knowledge",
        "reload_check_seconds",
        5.0,
        "Seconds between checks of the content files for changes; a changed file is reloaded\n"
        "without a restart (`legalbot kb reload` validates and forces the next check to reload).",
        low=1,
        high=3600,
    ),
    S("town", "name", "甘河滩镇"),
    S("town", "mediation", "甘河滩镇人民调解委员会（镇调委会在镇政府，各村有村调委会）"),
    S(
        "town",
        "police_mediation",
        "甘河滩镇人民调解委员会驻甘河工业园区公安分局特巡警大队、交警大队、东区派出所调解工作室",
        "The mediation rooms in the police sub-bureau's units, named as the town's 2024 report\n"
        "names them (content/sources/ganhetan-2024-report.txt).",
    ),
    S("town", "legal_aid", "湟中区法律援助中心，或到镇司法所申请"),
    S("town", "justice_office", "甘河滩镇司法所"),
    S(
        "town",
        "committees",
        "20",
        "How many people's mediation committees the town has (the town's and the villages').",
    ),
    S("mediation", "town_committee", "甘河滩镇人民调解委员会"),
    S("mediation", "villages", "", "Comma-separated; empty: residents type their village."),
    S("mediation", "reply_days", 3, low=1, high=30),
    S("mediation", "form_minutes", 30.0, low=0.01, high=1440),
    S("mediation", "keep_days", 90, low=1, high=3650),
    S(
        "console",
        "login_rate_limit",
        "10 per minute",
        'Failed logins allowed per address (the `limits` library\'s syntax, e.g. "10 per minute").',
        check=rate_limit,
    ),
    S("console", "session_minutes", 480, "Minutes a console session lasts.", low=5, high=10080),
    S(
        "campaigns",
        "rate_per_second",
        20,
        "Customer-service messages sent per second at most, over every process sending for this\n"
        "account (shared through Redis when redis.url is set; per process otherwise).",
        low=1,
        high=10000,
    ),
    S(
        "campaigns",
        "concurrency",
        4,
        "Customer-service messages in flight at once within one campaign.",
        low=1,
        high=64,
    ),
    S(
        "campaigns",
        "max_parallel_campaigns",
        2,
        "Campaigns one scheduler sends at the same time; more wait their turn.",
        low=1,
        high=16,
    ),
    S(
        "campaigns",
        "misfire_grace_seconds",
        900,
        "Seconds a campaign may still start after its time when the scheduler was down or busy:\n"
        "down at 9:00 and up at 9:05 sends at 9:05, once. Later than this it is marked `missed`\n"
        "(a recurring one skips that occurrence and keeps its next).",
        low=1,
        high=7 * 86400,
    ),
    S(
        "campaigns",
        "poll_seconds",
        10.0,
        "Seconds between the scheduler's reads of the campaigns table, where the CLI and the\n"
        "console write their changes (at most 30: a change is picked up within 30 s).",
        low=0.2,
        high=30,
    ),
    S(
        "campaigns",
        "retry_attempts",
        4,
        "Tries per message when WeChat answers -1 (busy) or cannot be reached, waiting\n"
        "retry_backoff_seconds, then twice that, and so on. After the last try the campaign\n"
        "pauses (resumable) rather than hammering a busy API.",
        low=1,
        high=10,
    ),
    S("campaigns", "retry_backoff_seconds", 1.0, low=0, high=60),
    S(
        "campaigns",
        "lock_ttl_seconds",
        30.0,
        "Seconds the scheduler lock and a sender's claim on a campaign last without renewal\n"
        "(renewed every third of it). A dead scheduler's standby takes over after this, and a\n"
        "send whose process died is resumed after it (at once on the same machine).",
        low=1,
        high=600,
    ),
    S(
        "campaigns",
        "request_timeout_seconds",
        10.0,
        "Seconds one WeChat API call may take.",
        low=0.5,
        high=60,
    ),
    S(
        "campaigns",
        "send_time",
        "09:00",
        "Time of day (HH:MM, in general.timezone) for `--calendar` schedules and plan drafts.",
        check=pattern(r"([01]\d|2[0-3]):[0-5]\d", "must be HH:MM (24-hour clock), got {value!r}"),
    ),
    S(
        "campaigns",
        "plan_audience",
        "all",
        "Audience of the drafts `legalbot campaign plan` makes: all, active48h or tag:ID.",
        check=pattern(r"all|active48h|tag:\d+", "must be all, active48h or tag:ID, got {value!r}"),
    ),
    S(
        "stats",
        "retention_days",
        400,
        "Days raw events (one row per message or event, with the pseudonymous user id) are kept.\n"
        "The roll-up (`legalbot serve` runs it at 02:30 local time; with gunicorn, run\n"
        "`legalbot stats rollup` nightly from cron) aggregates every closed day into daily counts and\n"
        "per-day presence rows (the pseudonymous ids of residents who wrote that day, for exact\n"
        "distinct counts), then deletes raw events older than this. Every figure of every\n"
        "period stays the same (README: Statistics). 0 keeps raw events forever (days are still\n"
        "aggregated); otherwise at least 7, so campaigns' 72-hour engagement windows have closed.",
        low=0,
        high=36500,
        check=retention,
    ),
)
SECTIONS = tuple(dict.fromkeys(s.section for s in SETTINGS))
DEFAULTS: dict[str, dict[str, Any]] = {
    section: {s.key: s.default for s in SETTINGS if s.section == section} for section in SECTIONS
}
ENV_OVERRIDES = {s.env: s for s in SETTINGS if s.env}
