"""Writing one entry into its theme file, as the console publishes it.

An entry is written as content/README.md shows (the fields in their usual order, the
answer as a multi-line string) and replaces its own lines of the theme file, or goes
at the end of it; every other line of the file stays as it was, byte for byte. Before
the file is replaced, the whole base with the new file in it is checked by the rules
of `legalbot kb validate` (loader.check); then the new text goes to a temporary file
beside the old one and takes its place with os.replace, so a worker reloading at that
moment reads the old file or the new one, never half of either.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import stat
import tempfile
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import filelock
from ..errors import InvalidEntryError, KnowledgeBaseError, StaleEntryError
from .loader import check
from .tomlfile import read_toml

# The fields of an entry in the order the theme files write them.
FIELDS = (
    "id",
    "title",
    "questions",
    "keywords",
    "answer",
    "sources",
    "help",
    "reviewed",
    "source",
    "featured",
)
_TRAILING = re.compile(r"^\s*(#.*)?$")  # blank or comment lines between two entries


@dataclass(frozen=True)
class Located:
    """An entry as it stands in its theme file: the file, its lines, its raw fields."""

    theme: str
    path: Path
    start: int  # index of the `[[entries]]` line among the file's lines
    end: int  # index after the entry's last line (comments before the next one excluded)
    text: str  # the entry's lines, as in the file
    raw: dict[str, Any]  # the fields as written, {town_…} placeholders untouched

    @property
    def digest(self) -> str:
        return digest(self.text)


@dataclass(frozen=True)
class Published:
    """What publishing changed: the theme file, and the entry's text before (or "" if new)."""

    path: Path
    previous: str
    text: str


def digest(text: str) -> str:
    """The hash of an entry's text: a draft remembers it to notice a change made since."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def locate(content_dir: Path, entry_id: str) -> Located | None:
    """Where `entry_id` is written in content/themes, or None when no file has it."""
    for path in sorted((Path(content_dir) / "themes").glob("*.toml")):
        for found in _entries_of(path):
            if found.raw.get("id") == entry_id:
                return found
    return None


def _entries_of(path: Path) -> Iterator[Located]:
    problems: list[str] = []
    file = read_toml(path, problems)
    if file is None:
        return
    raw_entries = file.data.get("entries")
    if not isinstance(raw_entries, list):
        return
    lines = path.read_bytes().decode("utf-8").splitlines(keepends=True)
    theme = str(file.data.get("theme", path.stem))
    for raw, (first, after) in zip(raw_entries, file.entry_spans(len(raw_entries)), strict=True):
        if not isinstance(raw, dict) or first == 1 and after == len(file.lines) + 1:
            continue  # entries not written as [[entries]] tables cannot be located
        start, end = first - 1, after - 1
        while end > start + 1 and _TRAILING.match(lines[end - 1]):
            end -= 1
        yield Located(theme, path, start, end, "".join(lines[start:end]), raw)


def entry_toml(fields: Mapping[str, Any]) -> str:
    """The `[[entries]]` table of `fields` (FIELDS; source and featured optional), as the
    theme files write it. Checked by reading it back: a value TOML would read otherwise
    is a bug here, not in the staff's text."""
    lines = ["[[entries]]"]
    for key in FIELDS:
        value = fields.get(key)
        if key in ("source", "featured") and not value:
            continue
        if key == "reviewed":
            if isinstance(value, dt.date):
                lines.append(f"reviewed = {value.isoformat()}")
            continue
        if key == "answer":
            lines.append(f'answer = """\n{_multiline(str(value or "").strip())}\n"""')
        elif key in ("questions", "sources"):
            items = [_source(s) if key == "sources" else _string(s) for s in value or []]
            lines.append(f"{key} = [" + "".join(f"\n  {item}," for item in items) + "\n]")
        elif key in ("keywords", "help"):
            lines.append(f"{key} = [{', '.join(_string(v) for v in value or [])}]")
        elif key == "featured":
            lines.append("featured = true")
        else:
            lines.append(f"{key} = {_string(str(value or ''))}")
    text = "\n".join(lines) + "\n"
    _check_round_trip(text, fields)
    return text


def _string(value: str) -> str:
    """A TOML basic string."""
    out = value.replace("\\", "\\\\").replace('"', '\\"')
    out = out.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    return '"' + re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", out) + '"'


def _multiline(value: str) -> str:
    """The body of a TOML multi-line basic string (quotes escaped, so no `\"\"\"` inside)."""
    out = value.replace("\r\n", "\n").replace("\\", "\\\\").replace('"', '\\"')
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", out)


def _source(source: Mapping[str, str]) -> str:
    parts = [f"law = {_string(source.get('law', ''))}"]
    if source.get("article"):
        parts.append(f"article = {_string(source['article'])}")
    return "{ " + ", ".join(parts) + " }"


def _check_round_trip(text: str, fields: Mapping[str, Any]) -> None:
    read = tomllib.loads(text)["entries"][0]
    for key, value in read.items():
        wanted = fields.get(key)
        if key == "answer":
            value, wanted = value.strip(), str(wanted or "").strip().replace("\r\n", "\n")
        elif key == "sources":
            wanted = [{k: v for k, v in s.items() if v} for s in wanted or []]
        elif key in ("questions", "keywords", "help"):
            wanted = list(wanted or [])
        if value != wanted:
            raise ValueError(f"entry_toml wrote {key} as {value!r}, not {wanted!r}")


def file_with(path: Path, located: Located | None, block: str) -> str:
    """The text of theme file `path` with `block` in place of the located entry, or
    appended after the last entry; every other line as it was."""
    text = path.read_bytes().decode("utf-8")
    if located is None:
        if text and not text.endswith("\n"):
            text += "\n"
        return text + ("\n" if text.strip() else "") + block
    lines = text.splitlines(keepends=True)
    ending = "\r\n" if lines[located.end - 1].endswith("\r\n") else "\n"
    return (
        "".join(lines[: located.start])
        + block.replace("\n", ending)
        + "".join(lines[located.end :])
    )


def check_with(content_dir: Path, path: Path, text: str) -> list[str]:
    """The problems `legalbot kb validate` would report were `path` (a theme file of
    `content_dir`) to hold `text`: the base is checked in a shadow folder of links to
    the real files, with the new file in it; messages name the real paths."""
    content_dir = Path(content_dir)
    with tempfile.TemporaryDirectory(prefix="legalbot-kb-") as tmp:
        shadow = Path(tmp) / content_dir.name
        shadow.mkdir()
        for item in content_dir.iterdir():
            if item.name != "themes":
                (shadow / item.name).symlink_to(item.resolve())
        (shadow / "themes").mkdir()
        for item in (content_dir / "themes").iterdir():
            if item.name != path.name:
                (shadow / "themes" / item.name).symlink_to(item.resolve())
        (shadow / "themes" / path.name).write_text(text, encoding="utf-8")
        problems, _ = check(shadow)
    return [problem.replace(str(shadow), str(content_dir)) for problem in problems]


def publish(
    content_dir: Path, theme: str, fields: Mapping[str, Any], base: str | None
) -> Published:
    """Write the entry `fields` into content/themes/<theme>.toml, replacing its old text.

    `base` is the digest of the entry's text when the draft was started (None for a new
    entry): if the file holds something else now, StaleEntryError, and nothing is
    written. A base the new file would make invalid raises KnowledgeBaseError with the
    problems as `file:line: message`. Publishers of one machine take turns (a file lock).
    """
    content_dir = Path(content_dir)
    path = content_dir / "themes" / f"{theme}.toml"
    entry_id = str(fields.get("id", ""))
    with filelock.held(str(content_dir / ".publish.lock")):
        located = locate(content_dir, entry_id)
        if base is None and located is not None:
            raise StaleEntryError(f"条目编号 {entry_id} 已经有人发布过了，请换一个编号")
        if base is not None and (located is None or located.digest != base):
            raise StaleEntryError(
                f"条目 {entry_id} 在您开始编辑之后已被修改或删除，为免覆盖别人的修改，"
                "本次不发布；请打开条目的最新内容，重新编辑后再发布"
            )
        if located is not None and located.path != path:
            raise StaleEntryError(f"条目 {entry_id} 在 {located.path.name} 里，不能换主题发布")
        if not path.exists():
            raise KnowledgeBaseError("没有这个主题的文件", [f"{path}:1: 主题文件不存在"])
        block = entry_toml(fields)
        text = file_with(path, located, block)
        problems = check_with(content_dir, path, text)
        if problems:
            first = located.start + 1 if located else text.count("\n") - block.count("\n") + 1
            raise InvalidEntryError(
                "条目未通过检查", problems, by_field(problems, path, first, block, entry_id)
            )
        write_atomically(path, text)
        (content_dir / ".reload").write_text(dt.date.today().isoformat() + "\n")
    return Published(path, located.text if located else "", block)


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` in one step (a temporary file beside it, then
    os.replace), keeping the file's permissions."""
    mode = stat.S_IMODE(path.stat().st_mode)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def by_field(
    problems: list[str], path: Path, first: int, block: str, entry_id: str
) -> dict[str, list[str]]:
    """The problems about the entry (in `block`, written from line `first` of `path`), by
    the field they are on, their `file:line: ` cut off; those about the entry as a whole
    or elsewhere under "". A citation problem is about `sources`."""
    keys = {}
    for offset, line in enumerate(block.splitlines()):
        found = re.match(r"^([a-z_]+) =", line)
        if found:
            keys[first + offset] = found.group(1)
    after = first + block.count("\n")
    fields: dict[str, list[str]] = {}
    prefix = re.compile(r"^(.*?):(\d+): ")
    for problem in problems:
        where = prefix.match(problem)
        message = problem[where.end() :] if where else problem
        line = int(where.group(2)) if where else 0
        key = ""
        if where and where.group(1) == str(path) and first <= line < after:
            key = _field_at(keys, line)
            if line == first:  # about the whole entry: the message may name its field
                key = _named_field(message)
        elif entry_id and entry_id in message and "问法" in message:
            key = "questions"
        fields.setdefault(key, []).append(message if key or not where else problem)
    return fields


def _named_field(message: str) -> str:
    """The field a message about a whole entry is about: a citation (《…》) is about the
    sources, a shared phrasing about the questions, else the field it names."""
    if "《" in message:
        return "sources"
    if "问法" in message:
        return "questions"
    return next((k for k in FIELDS if re.search(rf"(?<![\w-]){k}(?![\w-])", message)), "")


def _field_at(keys: dict[int, str], line: int) -> str:
    """The field whose `key =` line is the last at or above `line`."""
    above = [number for number in keys if number <= line]
    return keys[max(above)] if above else ""
