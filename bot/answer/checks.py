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
REQUIRED = ("id", "title", "questions", "keywords", "answer", "sources", "help", "reviewed")
_ARTICLE = re.compile(
    r"^第[0-9零一二三四五六七八九十百千、，,至\-—]+条(之[一二三四五六七八九十]+)?"
    r"(第[0-9一二三四五六七八九十]+[款项])*$"
)


def _str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


def _check_text(name: str, value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return f"{name} must be a non-empty string"
    return None


def _check_list(name: str, minimum: int) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if not _str_list(value):
            return f"{name} must be a list of non-empty strings"
        if len(value) < minimum:
            return f"{name} needs at least {minimum} items, has {len(value)}"
        return None

    return check


def _check_answer(value: Any) -> str | None:
    problem = _check_text("answer", value)
    if problem:
        return problem
    length = len(value.strip())
    if length > MAX_ANSWER_CHARS:
        return f"answer has {length} characters, more than the limit of {MAX_ANSWER_CHARS}"
    return None


def _check_sources(value: Any) -> str | None:
    if not isinstance(value, list) or not value:
        return 'sources needs at least 1 item like { law = "民法典", article = "第1条" }'
    for item in value:
        if not isinstance(item, dict) or _check_text("law", item.get("law")):
            return 'every source needs a law: { law = "民法典", article = "第1条" }'
        unknown = set(item) - {"law", "article"}
        if unknown:
            return f"unknown field {sorted(unknown)[0]!r} in a source (only law and article)"
        article = item.get("article")
        if article is not None and not (isinstance(article, str) and _ARTICLE.match(article)):
            return f"article {article!r} of {item['law']} is not written like 第N条 or 第N条第M款"
    return None


def _check_reviewed(value: Any) -> str | None:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        return "reviewed must be a date written like 2026-11-25 (no quotes)"
    return None


def _check_featured(value: Any) -> str | None:
    return None if isinstance(value, bool) else "featured must be true or false"


FIELD_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "id": lambda v: _check_text("id", v),
    "title": lambda v: _check_text("title", v),
    "questions": _check_list("questions", 3),
    "keywords": _check_list("keywords", 2),
    "answer": _check_answer,
    "sources": _check_sources,
    "help": _check_list("help", 1),
    "reviewed": _check_reviewed,
    "source": lambda v: None if isinstance(v, str) else "source must be a string",
    "featured": _check_featured,
}


def check_entry(
    raw: Any, theme: str, file: TomlFile, span: tuple[int, int], help_keys: Mapping[str, str]
) -> tuple[Entry | None, list[str]]:
    """Check one `[[entries]]` table; the Entry when it is sound, and the problems found."""
    start, end = span
    if not isinstance(raw, dict):
        return None, [f"{file.where(start)}: an entry must be a table ([[entries]])"]
    problems = []
    for key in REQUIRED:
        if key not in raw:
            problems.append(f"{file.where(start)}: missing field {key}")
    for key, value in raw.items():
        line = file.key_line(key, start, end)
        check = FIELD_CHECKS.get(key)
        problem = check(value) if check else f"unknown field {key!r}"
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
            f"{file.where(line)}: id {entry_id!r} must look like {theme}-words-with-dashes "
            "(lower-case letters, digits and dashes)"
        )
    if _str_list(raw.get("help")):
        for key in raw["help"]:
            if key not in help_keys:
                line = file.key_line("help", *span)
                problems.append(f"{file.where(line)}: help key {key!r} is not in help.toml")
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
