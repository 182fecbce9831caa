"""Citations checked against the laws in force (content/laws.toml).

Every law an entry cites is listed there with the version in force and the number of
its last article. `kb validate` refuses a citation of an unlisted or repealed law (婚姻法,
合同法 … were repealed on 2021-01-01 by 民法典第1260条) and of an article past the last
one; it reports, without refusing, an entry reviewed before its law's latest version
(治安管理处罚法 was revised in 2025 and renumbered), so staff re-check it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .entry import Entry
from .tomlfile import tables

_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_SEPARATORS = re.compile(r"[、，,至\-—–~]")


@dataclass(frozen=True)
class Law:
    """One law, interpretation or regulation as content/laws.toml lists it."""

    name: str
    title: str
    version: dt.date | None = None
    articles: int | None = None
    repealed: dt.date | None = None
    replaced_by: str | None = None


def chinese_number(text: str) -> int | None:
    """一千二百六十 → 1260, 五十 → 50, 十四 → 14; None when `text` is not such a numeral."""
    if not text or any(c not in _DIGITS and c not in _UNITS for c in text):
        return None
    total, digit = 0, None
    for char in text:
        if char in _DIGITS:
            digit = _DIGITS[char]
        else:
            total += (1 if digit is None else digit) * _UNITS[char]
            digit = None
    return total + (digit or 0)


def article_numbers(article: str) -> list[int]:
    """The article numbers a citation names: 第20、34条 → [20, 34]; 第33–43条 → [33, 43];
    第287条之二 → [287]; 第五十条第二款 → [50]."""
    found = re.match(r"^第(.+?)条", article.strip())
    if not found:
        return []
    numbers = []
    for piece in _SEPARATORS.split(found.group(1)):
        piece = piece.strip().removeprefix("第").removesuffix("条")
        number = int(piece) if piece.isdigit() else chinese_number(piece)
        if number is not None:
            numbers.append(number)
    return numbers


class Laws:
    """The registry of content/laws.toml."""

    def __init__(self, laws: Iterable[Law]) -> None:
        self.by_name = {law.name: law for law in laws}

    def __bool__(self) -> bool:
        return bool(self.by_name)

    def check(self, entry: Entry) -> tuple[list[str], list[str]]:
        """(problems, notices) of the entry's citations, each as `file:line: message`."""
        where = f"{entry.file}:{entry.line}"
        problems: list[str] = []
        notices: list[str] = []
        seen: set[str] = set()
        for source in entry.sources:
            name = source.get("law", "").strip("《》 ")
            law = self.by_name.get(name)
            first = name not in seen
            seen.add(name)
            if law is None and first:
                problems.append(
                    f"{where}: {entry.id} 引用的《{name}》不在 content/laws.toml 中"
                    "（请把它连同现行版本日期和条文总数加进去）"
                )
                continue
            if law is None:
                continue
            if law.repealed is not None and first:
                instead = f"，请改引《{law.replaced_by}》" if law.replaced_by else ""
                problems.append(
                    f"{where}: {entry.id} 引用的《{name}》已于 {law.repealed} 废止{instead}"
                )
                continue
            article = source.get("article", "")
            past = [n for n in article_numbers(article) if law.articles and n > law.articles]
            if past:
                problems.append(
                    f"{where}: {entry.id} 引用《{name}》{article}，但《{name}》只有 "
                    f"{law.articles} 条"
                )
            if first and law.version and entry.reviewed and law.version > entry.reviewed:
                notices.append(
                    f"{where}: {entry.id} 的审核日期 {entry.reviewed} 早于《{name}》"
                    f"{law.version} 的修订，请重新核对回答和条文"
                )
        return problems, notices


def read_laws(path: Path, problems: list[str]) -> Laws:
    """content/laws.toml; an empty registry (no checks) when the file is missing."""
    laws = []
    for name, body, where in tables(path, "laws", problems):
        problem = _check_law(body)
        if problem:
            problems.append(f"{where}: 法律《{name}》：{problem}")
            continue
        laws.append(
            Law(
                name=name,
                title=body["title"],
                version=body.get("version"),
                articles=body.get("articles"),
                repealed=body.get("repealed"),
                replaced_by=body.get("replaced_by"),
            )
        )
    return Laws(laws)


def _check_law(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "要写成表"
    if not isinstance(body.get("title"), str):
        return "要有 title（全称）"
    for key in ("version", "in_force", "repealed"):
        value = body.get(key)
        if value is not None and (not isinstance(value, dt.date) or isinstance(value, dt.datetime)):
            return f"{key} 要写成 2021-01-01 这样的日期"
    articles = body.get("articles")
    if articles is not None and (not isinstance(articles, int) or articles < 1):
        return "articles（条文总数）要写整数"
    return None
