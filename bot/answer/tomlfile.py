"""TOML files with line numbers: tomllib gives values only, staff need `file:line`."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_AT_LINE = re.compile(r"\s*\(at line (\d+), column \d+\)")
_ENTRY_HEADER = re.compile(r"^\s*\[\[\s*entries\s*\]\]")


@dataclass
class TomlFile:
    """A parsed TOML file and its text, to point problems at the line they are on."""

    path: Path
    data: dict[str, Any]
    lines: list[str]

    @property
    def name(self) -> str:
        return str(self.path)

    def where(self, line: int) -> str:
        return f"{self.name}:{line}"

    def key_line(self, key: str, start: int = 1, end: int | None = None) -> int:
        """Line of `key = …` between lines `start` and `end` (1-based), else `start`."""
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        stop = len(self.lines) if end is None else min(end, len(self.lines) + 1) - 1
        for number in range(start, stop + 1):
            if pattern.match(self.lines[number - 1]):
                return number
        return start

    def table_line(self, name: str) -> int:
        """Line of the table header `[a.b]` (parts quoted or not), else 1."""
        parts = r"\.".join(f"[\"']?{re.escape(p)}[\"']?" for p in name.split("."))
        pattern = re.compile(r"^\s*\[\s*" + parts)
        for number, text in enumerate(self.lines, 1):
            if pattern.match(text):
                return number
        return 1

    def entry_spans(self, count: int) -> list[tuple[int, int]]:
        """(first line, line after) of each `[[entries]]` table, `count` spans in all.

        Entries written some other way (an inline array) cannot be located; they are
        pointed at line 1 rather than at a wrong line.
        """
        starts = [i + 1 for i, text in enumerate(self.lines) if _ENTRY_HEADER.match(text)]
        if len(starts) != count:
            return [(1, len(self.lines) + 1)] * count
        ends = starts[1:] + [len(self.lines) + 1]
        return list(zip(starts, ends, strict=True))


def read_toml(path: Path, problems: list[str]) -> TomlFile | None:
    """Parse `path`; on failure note `file:line: message` and return None."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        problems.append(f"{path}:1: 不是 UTF-8 编码的文本（请另存为 UTF-8）")
        return None
    except OSError as exc:
        problems.append(f"{path}:1: 读取不了（{exc.strerror}）")
        return None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _AT_LINE.search(message)
        line = int(found.group(1)) if found else max(1, text.count("\n"))
        problems.append(f"{path}:{line}: TOML 格式有错：{_AT_LINE.sub('', message)}")
        return None
    return TomlFile(path, data, text.splitlines())


def tables(path: Path, name: str, problems: list[str]) -> list[tuple[str, Any, str]]:
    """(key, body, where) of each `[name.KEY]` table of an optional file: none when the
    file is missing or unreadable (its problem noted); `where` is `file:line`."""
    if not path.exists():
        return []
    file = read_toml(path, problems)
    if file is None:
        return []
    found = (file.data.get(name) or {}).items()
    return [(key, body, file.where(file.table_line(f"{name}.{key}"))) for key, body in found]
