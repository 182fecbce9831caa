"""The rules of content/README.md, one check per field, each problem as `file:line: message`."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any

from .entry import Entry
from .tomlfile import TomlFile

MAX_ANSWER_CHARS = 300
MAX_REPLY_BYTES = 2048
# How the fields are named to staff, in messages and in the console's form.
_NAMES = {
    "id": "条目编号",
    "title": "标题",
    "questions": "群众问法",
    "keywords": "关键词",
    "answer": "回答",
    "sources": "法律依据",
    "help": "求助渠道",
    "reviewed": "审核日期",
    "source": "出处",
    "featured": "精选",
    "law": "法律名称",
}
REQUIRED = ("id", "title", "questions", "keywords", "answer", "sources", "help", "reviewed")
_ARTICLE = re.compile(
    r"^第[0-9零一二三四五六七八九十百千、，,至\-—]+条(之[一二三四五六七八九十]+)?"
    r"(第[0-9一二三四五六七八九十]+[款项])*$"
)


def _str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


def _check_text(name: str, value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return f"{name}（{_NAMES[name]}）不能为空"
    return None


def _check_list(name: str, minimum: int) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if not _str_list(value):
            return f"{name}（{_NAMES[name]}）要写成一组不为空的文字"
        if len(value) < minimum:
            return f"{name}（{_NAMES[name]}）至少要 {minimum} 项，现在只有 {len(value)} 项"
        return None

    return check


def _check_answer(value: Any) -> str | None:
    problem = _check_text("answer", value)
    if problem:
        return problem
    length = len(value.strip())
    if length > MAX_ANSWER_CHARS:
        return f"answer（回答）有 {length} 个字，超过了 {MAX_ANSWER_CHARS} 字的上限，请精简"
    return None


def _check_sources(value: Any) -> str | None:
    if not isinstance(value, list) or not value:
        return 'sources（法律依据）至少要 1 条，如 { law = "民法典", article = "第1条" }'
    for item in value:
        if not isinstance(item, dict) or _check_text("law", item.get("law")):
            return '每条法律依据都要写明法律名称：{ law = "民法典", article = "第1条" }'
        unknown = set(item) - {"law", "article"}
        if unknown:
            return f"法律依据里有不认识的字段 {sorted(unknown)[0]!r}（只能有 law 和 article）"
        article = item.get("article")
        if article is not None and not (isinstance(article, str) and _ARTICLE.match(article)):
            return f"《{item['law']}》的条文 {article!r} 要写成“第N条”或“第N条第M款”的样子"
    return None


def _check_reviewed(value: Any) -> str | None:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        return "reviewed（审核日期）要写成 2026-11-25 这样的日期（不加引号）"
    return None


def _check_featured(value: Any) -> str | None:
    return None if isinstance(value, bool) else "featured（精选）只能是 true 或 false"


FIELD_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "id": lambda v: _check_text("id", v),
    "title": lambda v: _check_text("title", v),
    "questions": _check_list("questions", 3),
    "keywords": _check_list("keywords", 2),
    "answer": _check_answer,
    "sources": _check_sources,
    "help": _check_list("help", 1),
    "reviewed": _check_reviewed,
    "source": lambda v: None if isinstance(v, str) else "source（出处）要写成文字",
    "featured": _check_featured,
}


def check_entry(
    raw: Any, theme: str, file: TomlFile, span: tuple[int, int], help_keys: Mapping[str, str]
) -> tuple[Entry | None, list[str]]:
    """Check one `[[entries]]` table; the Entry when it is sound, and the problems found."""
    start, end = span
    if not isinstance(raw, dict):
        return None, [f"{file.where(start)}: 条目要写成 [[entries]] 表"]
    problems = []
    for key in REQUIRED:
        if key not in raw:
            problems.append(f"{file.where(start)}: 缺少字段 {key}（{_NAMES[key]}）")
    for key, value in raw.items():
        line = file.key_line(key, start, end)
        check = FIELD_CHECKS.get(key)
        problem = check(value) if check else f"不认识的字段 {key!r}"
        if problem:
            problems.append(f"{file.where(line)}: {problem}")
    problems += _check_references(raw, theme, file, span, help_keys)
    if problems:
        return None, problems
    return _build(raw, theme, file, start), []


def _check_references(
    raw: dict[str, Any], theme: str, file: TomlFile, span: tuple[int, int], help_keys: Mapping
) -> list[str]:
    """The checks that relate a field to something else: the theme, help.toml."""
    problems = []
    entry_id = raw.get("id")
    if isinstance(entry_id, str) and not re.fullmatch(
        rf"{re.escape(theme)}-[a-z0-9]+(-[a-z0-9]+)*", entry_id
    ):
        line = file.key_line("id", *span)
        problems.append(
            f"{file.where(line)}: 条目编号 id {entry_id!r} 要写成 {theme}-英文单词-用短横线连接 "
            "的样子（小写字母、数字和短横线）"
        )
    if _str_list(raw.get("help")):
        for key in raw["help"]:
            if key not in help_keys:
                line = file.key_line("help", *span)
                problems.append(f"{file.where(line)}: 求助渠道 help 里的 {key!r} 不在 help.toml 中")
    return problems


def _build(raw: dict[str, Any], theme: str, file: TomlFile, line: int) -> Entry:
    return Entry(
        id=raw["id"].strip(),
        theme=theme,
        title=raw["title"].strip(),
        questions=tuple(q.strip() for q in raw["questions"]),
        keywords=tuple(k.strip() for k in raw["keywords"]),
        answer=raw["answer"].strip(),
        sources=tuple(
            {k: str(v).strip() for k, v in s.items() if k in ("law", "article")}
            for s in raw["sources"]
        ),
        help=tuple(raw["help"]),
        reviewed=raw["reviewed"],
        source=raw.get("source", "").strip(),
        featured=bool(raw.get("featured", False)),
        file=file.name,
        line=line,
    )


def fit_bytes(text: str, limit: int = MAX_REPLY_BYTES) -> str:
    """`text` cut to `limit` UTF-8 bytes at a character boundary (a last resort)."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode("utf-8", errors="ignore") + "…"
