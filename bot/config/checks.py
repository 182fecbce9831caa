"""The rules settings.py's rows name for values a type and bounds cannot check."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable
from typing import Any

import limits

Check = Callable[[Any], str | None]  # a problem with the value, or None


def pattern(regex: str, problem: str) -> Check:
    compiled = re.compile(regex)
    return lambda value: None if compiled.fullmatch(value) else problem.format(value=value)


def timezone(value: str) -> str | None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {value!r}"
    return None


def rate_limit(value: str) -> str | None:
    try:
        limits.parse(value)
    except ValueError:
        return f"must read like '10 per minute', got {value!r}"
    return None


def retention(value: int) -> str | None:
    if 0 < value < 7:
        return f"must be 0 (keep raw events) or at least 7, got {value}"
    return None
