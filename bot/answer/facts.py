"""Facts from data: which hotline is which, which day is which, not left to the ranking.

"12339是什么电话", "妇女维权热线是多少", "国际禁毒日是哪天", "为什么设国家宪法日": short
questions whose answer is one line of content/help.toml or of the publicity calendar
(the taxonomy's [[calendar]] with content/days.toml). A question is a fact question only
when it is short and asks just that; anything longer goes to the search.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ..calendar import CalendarDay, CalendarError, calendar_days, day_in_year
from .replies import text as reply_text
from .tomlfile import read_toml
from .triage import compact

# How much a fact question may say beyond the name it asks about ("是多少", "为什么设立").
_SLACK = 10
_ABOUT_NUMBER = re.compile(
    r"^(?:请问|问一下|问下)?(?:这个|那个)?(?:号码?|电话)?(?:是|为)?"
    r"(?:什么|啥|哪里|哪儿|哪个|谁|干啥|干嘛|做什么|做啥|干什么|管什么|管啥|有什么用|有啥用)"
    r"(?:的|地方的|单位的|部门的)?(?:电话|号码|号|热线|单位|部门|地方|意思)?(?:啊|呀|呢|吗)?$"
)
_ASK_CONTACT = re.compile(
    r"(?:电话|热线|号码|专线|号)(?:是|号码是|号码)?(?:多少|几|啥|什么|哪个|几号)|"
    r"(?:怎么|咋|如何)(?:打|联系)|(?:打|拨)(?:什么|啥|哪个|几)"
)
_ASK_DAY = re.compile(
    r"哪天|哪一天|几月几|几号|什么时候|啥时候|哪个日子|是哪|为什么|为啥|由来|来历|怎么来的|"
    r"什么日子|啥日子|什么节|啥节|是什么|是啥|干什么的|有什么意义|有啥意义|意义|在几月"
)
_DATE = re.compile(
    r"(\d{1,2})月(\d{1,2})(?:日|号)?(?:是|这天是|那天是)?(?:什么|啥)(?:日子|节|纪念日|节日|日)"
)
_NUMBER = re.compile(r"\d{3,}")


@dataclass(frozen=True)
class Hotline:
    """A help.toml contact residents may ask about."""

    key: str
    number: str
    name: str
    aliases: tuple[str, ...]
    about: str
    theme: str | None


@dataclass(frozen=True)
class DayFacts:
    """A calendar day and what residents are told about it."""

    day: CalendarDay
    aliases: tuple[str, ...]
    about: str


@dataclass(frozen=True)
class Fact:
    """The answer to a fact question: `key` names it for the records (hotline-12339)."""

    key: str
    theme: str | None
    title: str
    text: str


class Facts:
    """The hotlines and calendar days, and the questions about them."""

    def __init__(self, hotlines: list[Hotline], days: list[DayFacts]) -> None:
        self.hotlines = {h.number: h for h in hotlines}
        self.days = days
        names = [(alias, h) for h in hotlines for alias in (h.name, *h.aliases)]
        self._names = sorted(names, key=lambda pair: -len(pair[0]))
        spoken = [(compact(alias), d) for d in days for alias in (d.day.name, *d.aliases)]
        self._day_names = sorted(spoken, key=lambda pair: -len(pair[0]))

    def answer(self, message: str, today: date) -> Fact | None:
        """The fact `message` asks for, or None when it asks something else."""
        text = compact(message)
        if not text or len(text) > 24:
            return None
        return self._by_number(text) or self._by_name(text) or self._day(text, today)

    def _by_number(self, text: str) -> Fact | None:
        numbers = [n for n in _NUMBER.findall(text) if n in self.hotlines]
        if len(numbers) != 1:
            return None
        rest = text.replace(numbers[0], "", 1)
        if rest and not _ABOUT_NUMBER.match(rest):
            return None
        return self._hotline(self.hotlines[numbers[0]])

    def _by_name(self, text: str) -> Fact | None:
        if not _ASK_CONTACT.search(text):
            return None
        for alias, hotline in self._names:
            if alias in text and len(text) <= len(alias) + _SLACK:
                return self._hotline(hotline)
        return None

    def _hotline(self, hotline: Hotline) -> Fact:
        reply = reply_text(
            "fact_hotline", number=hotline.number, name=hotline.name, about=hotline.about
        )
        return Fact(f"hotline-{hotline.key}", hotline.theme, hotline.name, reply)

    def _day(self, text: str, today: date) -> Fact | None:
        dated = _DATE.search(text)
        if dated:
            month, day = int(dated.group(1)), int(dated.group(2))
            for facts in self.days:
                if not facts.day.lunar and (facts.day.month, facts.day.day) == (month, day):
                    return self._day_fact(facts, today)
            return None
        if not _ASK_DAY.search(text):
            return None
        for alias, facts in self._day_names:
            if alias and alias in text and len(text) <= len(alias) + _SLACK:
                return self._day_fact(facts, today)
        return None

    def _day_fact(self, facts: DayFacts, today: date) -> Fact:
        day = facts.day
        if day.lunar:
            when = reply_text("fact_lunar_day", month=_lunar(day.month), day=_lunar_day(day.day))
            try:
                solar = day_in_year(day, today.year)
            except CalendarError:
                solar = None
            if solar is not None:
                when += reply_text(
                    "fact_lunar_this_year",
                    year=str(solar.year),
                    date=f"{solar.month}月{solar.day}日",
                )
        else:
            when = reply_text("fact_solar_day", date=f"{day.month}月{day.day}日")
        reply = reply_text("fact_day", name=day.name, when=when, about=facts.about)
        return Fact(f"day-{day.key}", day.theme, day.name, reply)


_CN_DIGITS = "〇一二三四五六七八九十"


def _lunar(month: int) -> str:
    return {1: "正", 11: "冬", 12: "腊"}.get(month, _CN_DIGITS[month % 11])


def _lunar_day(day: int) -> str:
    if day <= 10:
        return "初" + _CN_DIGITS[day]
    if day < 20:
        return "十" + _CN_DIGITS[day - 10]
    if day == 20:
        return "二十"
    if day < 30:
        return "廿" + _CN_DIGITS[day - 20]
    return "三十"


def read_facts(
    help_file: Path, days_file: Path, taxonomy: Mapping[str, Any] | None, problems: list[str]
) -> Facts:
    """The hotlines of help.toml and the calendar days of the taxonomy with days.toml."""
    return Facts(_read_hotlines(help_file, problems), _read_days(days_file, taxonomy, problems))


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(v.strip() for v in value if isinstance(v, str) and v.strip())


def _read_hotlines(path: Path, problems: list[str]) -> list[Hotline]:
    file = read_toml(path, []) if path.exists() else None  # help.toml's own problems are
    if file is None:  # reported by the loader that reads its texts
        return []
    hotlines = []
    for key, body in (file.data.get("contacts") or {}).items():
        if not isinstance(body, dict) or "number" not in body:
            continue
        line = file.key_line("number")
        fields = {name: body.get(name) for name in ("number", "name", "about")}
        missing = [name for name, value in fields.items() if not isinstance(value, str)]
        if missing:
            problems.append(f"{file.where(line)}: 求助渠道 {key} 缺少 {', '.join(missing)}")
            continue
        if body["number"] != str(key):
            problems.append(
                f"{file.where(line)}: 求助渠道 {key} 的号码是 {body['number']!r}，要和编号一致"
            )
            continue
        theme = body.get("theme")
        hotlines.append(
            Hotline(
                str(key),
                body["number"],
                body["name"],
                _strings(body.get("aliases")),
                body["about"].strip(),
                theme if isinstance(theme, str) else None,
            )
        )
    return hotlines


def _read_days(
    path: Path, taxonomy: Mapping[str, Any] | None, problems: list[str]
) -> list[DayFacts]:
    if taxonomy is None or not path.exists():
        return []
    file = read_toml(path, problems)
    if file is None:
        return []
    try:
        calendar = calendar_days(taxonomy.get("calendar", []), "taxonomy")
    except CalendarError as exc:
        problems.append(f"{file.where(1)}: {exc}")
        return []
    days = []
    for key, body in (file.data.get("days") or {}).items():
        line = file.table_line(f"days.{key}")
        if key not in calendar:
            problems.append(f"{file.where(line)}: {key} 不是宣传日历（taxonomy）里的日子")
            continue
        about = body.get("about") if isinstance(body, dict) else None
        if not isinstance(about, str) or not about.strip():
            problems.append(f"{file.where(line)}: 宣传日 {key} 要有 about（介绍）")
            continue
        days.append(DayFacts(calendar[key], _strings(body.get("aliases")), about.strip()))
    return days
