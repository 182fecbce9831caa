"""Areas of law the knowledge base does not cover: never a confident answer from the wrong one.

content/areas.toml lists them with the words that name them (契税, 取保候审, 公积金) and
where residents go instead. A question naming such a word is answered only from an entry
that holds the word itself; otherwise the resident is told which area the question is in
and where to get help (the `referral` reply of replies.toml).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .tomlfile import tables
from .triage import compact


@dataclass(frozen=True)
class Area:
    key: str
    name: str
    refer: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class Named:
    """The areas a question names, and the words that name them, in order of the text."""

    areas: tuple[Area, ...] = ()
    words: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.words)


class Areas:
    """The areas of content/areas.toml, looked up by the words of a question."""

    def __init__(self, areas: list[Area]) -> None:
        self.areas = areas
        pairs = [(compact(w), a) for a in areas for w in a.words if compact(w)]
        self._words = sorted(pairs, key=lambda pair: -len(pair[0]))

    def named(self, message: str) -> Named:
        """The area words of `message` (a longer word hides the shorter ones inside it)."""
        text = compact(message)
        found: list[tuple[int, str, Area]] = []
        for word, area in self._words:
            at = text.find(word)
            if at >= 0:
                found.append((at, word, area))
                text = text.replace(word, "\0" * len(word))
        found.sort(key=lambda item: item[0])
        areas = tuple(dict.fromkeys(area for _, _, area in found))
        return Named(areas, tuple(word for _, word, _ in found))


def read_areas(path: Path, problems: list[str]) -> Areas:
    """content/areas.toml; every problem noted as `file:line: message`."""
    areas = []
    for key, body, where in tables(path, "areas", problems):
        if not isinstance(body, dict):
            problems.append(f"{where}: 领域 {key} 要写成表")
            continue
        texts = {name: body.get(name) for name in ("name", "refer")}
        words = body.get("words")
        bad = [name for name, value in texts.items() if not isinstance(value, str) or not value]
        if not isinstance(words, list) or not words or not all(isinstance(w, str) for w in words):
            bad.append("words")
        if bad:
            problems.append(f"{where}: 领域 {key} 缺少 {', '.join(bad)}")
            continue
        areas.append(Area(key, texts["name"], texts["refer"], tuple(words)))
    return Areas(areas)
