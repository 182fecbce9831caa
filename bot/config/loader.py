"""Reading the configuration: config.toml, then LEGALBOT_* variables, into frozen objects.

Every problem is reported as one line naming the key, so an operator fixes the file
without reading a traceback; a bad value is never used (its default stands in while the
other keys are checked). Modules receive the values they need, not the environment.
"""

from __future__ import annotations

import os
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import field, make_dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .settings import DEFAULTS, ENV_OVERRIDES, FLAT, SETTINGS, Setting


def _section_class(name: str, section: str) -> type:
    fields = [(s.key, s.kind) for s in SETTINGS if s.section == section]
    cls = make_dataclass(name, fields, frozen=True)
    cls.__module__ = __name__
    return cls


# The typed sections, made from the table (settings.py): their fields are its keys.
WeChatSettings = _section_class("WeChatSettings", "wechat")
KnowledgeSettings = _section_class("KnowledgeSettings", "knowledge")
StatsSettings = _section_class("StatsSettings", "stats")
CampaignSettings = _section_class("CampaignSettings", "campaigns")
MediationSettings = _section_class("MediationSettings", "mediation")
NESTED = {
    "wechat": WeChatSettings,
    "knowledge": KnowledgeSettings,
    "stats": StatsSettings,
    "campaigns": CampaignSettings,
    "mediation": MediationSettings,
}


def _tz(self) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(self.timezone)


Config = make_dataclass(
    "Config",
    [
        ("path", Path | None),
        *((s.attr or s.key, s.kind) for s in SETTINGS if s.section in FLAT),
        *((section, cls) for section, cls in NESTED.items()),
        ("town", Mapping[str, str], field(default_factory=dict)),
    ],
    frozen=True,
    namespace={"tz": property(_tz, doc="The configured time zone.")},
)
Config.__module__ = __name__
Config.__doc__ = "Every setting, checked: flat sections as attributes, the others as sections."


def load(
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
):
    """Read the config file and the environment; raise ConfigError listing every bad key.

    `overrides` ({section: {key: value}}) win over both; tests use them to build an app.
    """
    environ = os.environ if environ is None else environ
    named = path or environ.get("LEGALBOT_CONFIG")
    file_path = Path(named or "config.toml")
    raw = _read_file(file_path, explicit=bool(named))
    problems: list[str] = []
    merged: dict[str, dict[str, Any]] = {s: dict(v) for s, v in DEFAULTS.items()}
    for section, values in raw.items():
        if section not in DEFAULTS:
            problems.append(f"{section}: unknown section in {file_path}")
        elif not isinstance(values, dict):
            problems.append(f"{section}: must be a table ([{section}])")
        else:
            for key, value in values.items():
                if key not in DEFAULTS[section] and section != "town":
                    problems.append(f"{section}.{key}: unknown setting")
                merged[section][key] = value
    for var, setting in ENV_OVERRIDES.items():
        if var in environ:
            merged[setting.section][setting.key] = environ[var]
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


def value_of(setting: Setting, value: Any) -> tuple[Any, str | None]:
    """The value as its setting's type, or (the default, the problem)."""
    kind = setting.kind
    if kind is Path and isinstance(value, Path):
        value = str(value)
    if kind in (int, float):
        try:
            if isinstance(value, bool):
                raise ValueError
            number = kind(value)
        except (TypeError, ValueError):
            return setting.default, f"must be a number, got {value!r}"
        if not setting.low <= number <= setting.high:
            return setting.default, (
                f"must be between {setting.low} and {setting.high}, got {number}"
            )
        value = number
    elif not isinstance(value, str):
        return setting.default, f"must be a string, got {value!r}"
    else:
        value = setting.clean(value)
    problem = setting.check(value) if setting.check else None
    if problem:
        return setting.default, problem
    if kind is Path:
        value = Path(value or setting.default)
    return value, None


def _build(merged: dict[str, dict[str, Any]], path: Path | None, problems: list[str]):
    values: dict[str, dict[str, Any]] = {section: {} for section in DEFAULTS}
    for setting in SETTINGS:
        value, problem = value_of(setting, merged[setting.section][setting.key])
        if problem:
            problems.append(f"{setting.label}: {problem}")
        values[setting.section][setting.key] = value
    problems += _across(values, merged)
    flat = {s.attr or s.key: values[s.section][s.key] for s in SETTINGS if s.section in FLAT}
    nested = {section: cls(**values[section]) for section, cls in NESTED.items()}
    town = {k: str(v) for k, v in merged["town"].items()}
    return Config(path=path, town=town, **flat, **nested)


def _across(values: dict[str, dict[str, Any]], given: dict[str, dict[str, Any]]) -> list[str]:
    """Rules between settings (`given`: as written, before a bad value was set aside)."""
    problems = []
    knowledge = values["knowledge"]
    if knowledge["suggest_threshold"] > knowledge["answer_threshold"]:
        problems.append("knowledge.suggest_threshold: must not exceed knowledge.answer_threshold")
    if given["wechat"]["aes_key"] and not values["wechat"]["appid"]:
        problems.append("wechat.appid (LEGALBOT_WECHAT_APPID): required when wechat.aes_key is set")
    return problems
