"""Campaigns in the words staff read: states, audiences, schedules and recurring rules.

Staff never type a crontab line: the console offers a rule (每天 / 每周 + weekday /
每月 + day / 每年 + month and day, at a time), `Rule.cron()` turns it into what
`--cron` takes, and `describe_cron()` reads such a line back in Chinese. The command
line's help lists the theme slugs and calendar keys with their Chinese names (`epilog`).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .figures import audience_name
from .states import STATE_NAMES

__all__ = ["FREQUENCIES", "WEEKDAYS", "Rule", "audience_name", "describe_cron", "state_name"]

# crontab weekday numbers (0 = Sunday) as staff name them, Monday first
WEEKDAYS = {1: "周一", 2: "周二", 3: "周三", 4: "周四", 5: "周五", 6: "周六", 0: "周日"}
FREQUENCIES = {"daily": "每天", "weekly": "每周", "monthly": "每月", "yearly": "每年"}
_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


def state_name(state: str) -> str:
    return STATE_NAMES.get(state, state)


def target(campaign: dict) -> str:
    """How the audit log names a campaign (its id and name; never its audience)."""
    return f"推送 {campaign['id']}「{campaign['name']}」"


@dataclass(frozen=True)
class Rule:
    """A recurring rule as the console's form gives it; `problems()` says what is wrong."""

    frequency: str  # a FREQUENCIES key
    at: str  # HH:MM
    weekday: int | None = None  # crontab number, for weekly
    day: int | None = None  # day of the month, for monthly and yearly
    month: int | None = None  # for yearly

    def problems(self) -> dict[str, str]:
        """{field: what is wrong, in Chinese}; empty when the rule holds."""
        wrong = {}
        if self.frequency not in FREQUENCIES:
            wrong["frequency"] = "请选择重复方式：每天、每周、每月或每年"
        if not _TIME.fullmatch(self.at or ""):
            wrong["at"] = "请填写发送时间，如 09:00"
        if self.frequency == "weekly" and self.weekday not in WEEKDAYS:
            wrong["weekday"] = "请选择星期几"
        if self.frequency in ("monthly", "yearly") and not 1 <= (self.day or 0) <= 31:
            wrong["day"] = "请选择几号（1 到 31）"
        if self.frequency == "yearly":
            if not 1 <= (self.month or 0) <= 12:
                wrong["month"] = "请选择月份"
            elif self.day and self.day > _DAYS_IN[self.month]:
                wrong["day"] = f"{self.month}月没有{self.day}号"
        return wrong

    def cron(self) -> str:
        """The crontab line `--cron` takes (minute hour day month weekday)."""
        hour, minute = (int(x) for x in self.at.split(":"))
        day, month, weekday = "*", "*", "*"
        if self.frequency == "weekly":
            weekday = str(self.weekday)
        if self.frequency in ("monthly", "yearly"):
            day = str(self.day)
        if self.frequency == "yearly":
            month = str(self.month)
        return f"{minute} {hour} {day} {month} {weekday}"


_DAYS_IN = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}


def rule_of(cron: str) -> Rule | None:
    """The Rule a crontab line was made from, or None for a line no rule makes."""
    fields = cron.split()
    if len(fields) != 5 or not all(f.isdigit() for f in fields[:2]):
        return None
    minute, hour, day, month, weekday = fields
    at = f"{int(hour):02d}:{int(minute):02d}"
    shape = tuple(f == "*" for f in (day, month, weekday))
    try:
        if shape == (True, True, True):
            return Rule("daily", at)
        if shape == (True, True, False):
            return Rule("weekly", at, weekday=int(weekday) % 7)
        if shape == (False, True, True):
            return Rule("monthly", at, day=int(day))
        if shape == (False, False, True):
            return Rule("yearly", at, day=int(day), month=int(month))
    except ValueError:
        return None
    return None


def describe_cron(cron: str) -> str:
    """A crontab line in Chinese: 每周一 09:00, 每月1号 09:00 …"""
    rule = rule_of(cron)
    if rule is None or rule.problems():
        return f"按规则重复（{cron}）"
    if rule.frequency == "weekly":
        return f"每{WEEKDAYS[rule.weekday]} {rule.at}"
    if rule.frequency == "monthly":
        return f"每月{rule.day}号 {rule.at}" + ("（没有这一天的月份不发）" if rule.day > 28 else "")
    if rule.frequency == "yearly":
        return f"每年{rule.month}月{rule.day}日 {rule.at}"
    return f"每天 {rule.at}"


def describe_schedule(kind: str | None, expr: str | None, calendar: dict) -> str:
    """How a campaign's schedule reads in the console and `campaign show`."""
    if kind == "calendar" and expr in calendar:
        return f"普法日历：{calendar[expr].describe()}"
    if kind == "cron" and expr:
        return describe_cron(expr)
    if kind == "at":
        return "指定时间"
    return "未排期（草稿）"


def epilog(taxonomy: Path | None = None) -> str:
    """The theme slugs and calendar keys with their Chinese names, for `--help`."""
    if taxonomy is None:
        from bot.answer.loader import BUNDLED_TAXONOMY

        taxonomy = BUNDLED_TAXONOMY
    try:
        with Path(taxonomy).open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError):
        return ""
    themes = [f"  {slug:<22} {t.get('name', '')}" for slug, t in data.get("themes", {}).items()]
    days = []
    for day in data.get("calendar", []):
        when = f"农历{day['lunar']}" if "lunar" in day else day.get("date", "")
        days.append(f"  {day.get('key', ''):<22} {day.get('name', '')}（{when}）")
    return "\n".join(
        [
            "\b",
            "Themes (--theme SLUG):",
            *themes,
            "",
            "\b",
            "Calendar days (--calendar KEY):",
            *days,
        ]
    )
