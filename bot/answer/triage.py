"""Danger first: a resident in danger now gets the emergency number before anything else.

content/triage.toml holds the cues, the markers that say "not now" and the replies; this
module only compiles and applies them (the file's header explains the rules). It runs
before the greeting, the menu and the search, on every text and recognised voice message.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .learnt import NONE, Example, TextModel, char_grams
from .tomlfile import TomlFile, read_toml

MARKERS = ("past", "hypothetical", "law")
_WORD = re.compile(r"\{([a-z_]+)\}")
_COMPACT = re.compile(r"[\s\W_]+", re.UNICODE)
# A phone number in a reply: three or more digits that are not an article (第274条), a
# year, an amount or a duration.
PHONE = re.compile(r"(?<![第\d.])\d{3,}(?![\d.]|条|款|项|年|元|万|块|小时|天|日|号|个|岁|%)")


def compact(text: str) -> str:
    """The message as cues see it: NFKC, lower case, no spaces or punctuation."""
    return _COMPACT.sub("", unicodedata.normalize("NFKC", text).lower())


def _alternation(patterns: Sequence[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


def _search(pattern: re.Pattern[str] | None, text: str) -> bool:
    return pattern is not None and pattern.search(text) is not None


@dataclass(frozen=True)
class Cues:
    """Patterns of which one must be found (`any`), and groups of patterns found together
    anywhere in the message (`together`, a cue written as a list)."""

    any: re.Pattern[str] | None
    together: tuple[tuple[re.Pattern[str], ...], ...] = ()

    def found(self, text: str) -> bool:
        if _search(self.any, text):
            return True
        return any(all(p.search(text) for p in group) for group in self.together)


@dataclass(frozen=True)
class DangerKind:
    """One kind of danger: how it is recognised and what the resident is told first."""

    key: str
    name: str
    first: str
    then: str
    help: tuple[str, ...]
    entry: str | None
    negated_by: frozenset[str]
    now_beats: frozenset[str]
    cues: Cues
    cues_now: Cues
    strong: Cues
    not_if: Cues
    signs: Mapping[str, re.Pattern[str]] = field(default_factory=dict)
    need: int = 2
    core: frozenset[str] = frozenset()

    def signs_in(self, text: str) -> set[str]:
        """The names of the kind's signs found in `text`."""
        return {name for name, pattern in self.signs.items() if pattern.search(text)}

    def told(self, markers: Mapping[str, bool]) -> bool:
        """Whether the markers say it is not happening now: over, past, hypothetical or a
        question about the law (a `now` marker cancels those the kind lets it)."""
        if markers["resolved"]:
            return True
        negated = {m for m in self.negated_by if markers[m]}
        if markers["now"]:
            negated -= self.now_beats
        return bool(negated)

    def negated(self, text: str, markers: Mapping[str, bool]) -> bool:
        """Whether the message says it is not this danger now: the markers, or one of the
        kind's own `not_if`."""
        return self.not_if.found(text) or self.told(markers)

    def matches(self, text: str, markers: Mapping[str, bool]) -> bool:
        """Whether `text` (compact, harmless phrases cut out) is this danger, now."""
        if self.strong.found(text):  # whatever else it says, unless the markers tell
            return not self.told(markers)
        if self.negated(text, markers):
            return False
        if self.cues.found(text) or (markers["now"] and self.cues_now.found(text)):
            return True
        found = self.signs_in(text)
        return len(found) >= self.need and bool(found & self.core)


@dataclass(frozen=True)
class Danger:
    """The verdict on one message: the leading kind and any others it also matched."""

    kind: DangerKind
    others: tuple[DangerKind, ...] = ()


class Triage:
    """The compiled content/triage.toml."""

    def __init__(
        self,
        kinds: Sequence[DangerKind],
        markers: Mapping[str, re.Pattern[str] | None],
        threshold: float = 1.0,
        not_signs: frozenset[str] = frozenset(),
    ) -> None:
        self.kinds = tuple(kinds)
        self.threshold = threshold
        self.not_signs = not_signs
        self._examples: Sequence[Example] = ()
        self._model: TextModel | None = None
        self._fitting = threading.Lock()
        self._harmless = markers.get("harmless")
        self._markers = {name: markers.get(name) for name in (*MARKERS, "resolved", "now")}

    def check(self, message: str) -> Danger | None:
        """The danger `message` reports, or None for an ordinary message."""
        text = compact(message)
        if not text:
            return None
        # Markers read the whole message; cues read it without the harmless phrases
        # (笑死, 打电话), which would otherwise look like a danger, or hide a marker.
        marks = {name: _search(p, text) for name, p in self._markers.items()}
        text = self._cut(text)
        found = [kind for kind in self.kinds if kind.matches(text, marks)]
        if found:
            return Danger(found[0], tuple(found[1:]))
        return self._learnt(text, marks)

    def _learnt(self, text: str, marks: Mapping[str, bool]) -> Danger | None:
        """The danger the learnt model reads where no cue did, when the message shows one
        of that kind's signs, unless the markers say it is not one now (the model reads
        words, not tenses)."""
        model = self.model
        if model is None:
            return None
        probs = model.probabilities(text)
        if 1.0 - probs.get(NONE, 0.0) < self.threshold:
            return None
        by_key = {kind.key: kind for kind in self.kinds}
        likely = max((p, k) for k, p in probs.items() if k in by_key)[1]
        kind = by_key[likely]
        # The model reads character pairs, so an everyday message can sound like a danger
        # (烧糊了, 抽奖): it must also show one of the kind's own signs, not only who is
        # involved (the [model] table's `not_signs`).
        if kind.negated(text, marks) or not kind.signs_in(text) - self.not_signs:
            return None
        return Danger(kind)

    def learn(self, examples: Sequence[Example]) -> None:
        """Give the danger reader its labelled messages (content/triage_examples.tsv) and
        everyday questions (`none`); it is fitted when first needed (`model`), so
        validating or exporting never fits it, and the serving holder fits it with the
        index, before the base takes requests (holder.py)."""
        self._examples = tuple(examples)
        self._model = None

    @property
    def model(self) -> TextModel | None:
        """The fitted danger reader (None without examples of two labels)."""
        if self._model is None and self._examples:
            with self._fitting:
                if self._model is None:
                    cut = [Example(e.label, self._cut(compact(e.text))) for e in self._examples]
                    # Not balanced: a danger is rare among messages, the model must say so.
                    self._model = TextModel.learn(cut, char_grams, balanced=False)
                    self._examples = ()
        return self._model

    def _cut(self, text: str) -> str:
        """A compact text without its harmless phrases (笑死, 打车), as cues and the model
        read it."""
        return self._harmless.sub("", text) if self._harmless is not None else text

    @classmethod
    def empty(cls) -> Triage:
        return cls([], {})


def read_triage(path: Path, help_keys: Mapping[str, str], problems: list[str]) -> Triage:
    """content/triage.toml compiled; every problem noted as `file:line: message`."""
    if not path.exists():
        return Triage.empty()
    file = read_toml(path, problems)
    if file is None:
        return Triage.empty()
    reader = _Reader(file, problems)
    markers = {
        name: reader.patterns(
            f"markers.{name}", file.data.get("markers", {}).get(name, []), file.key_line(name)
        ).any
        for name in ("harmless", *MARKERS, "resolved", "now")
    }
    kinds = []
    for number, raw in enumerate(file.data.get("kinds", []), 1):
        kind = reader.kind(number, raw, help_keys)
        if kind is not None:
            kinds.append(kind)
    model = file.data.get("model", {})
    threshold = model.get("threshold", 1.0)
    if not isinstance(threshold, int | float) or not 0 < threshold <= 1:
        problems.append(f"{file.where(file.key_line('threshold'))}: threshold is 0..1")
        threshold = 1.0
    not_signs = model.get("not_signs", [])
    if not isinstance(not_signs, list) or not all(isinstance(n, str) for n in not_signs):
        problems.append(f"{file.where(file.key_line('not_signs'))}: not_signs is a list of names")
        not_signs = []
    return Triage(kinds, markers, float(threshold), frozenset(not_signs))


class _Reader:
    """Compiles the file's patterns with its [words] filled in, noting every problem."""

    def __init__(self, file: TomlFile, problems: list[str]) -> None:
        self.file = file
        self.problems = problems
        words = file.data.get("words", {})
        self.words = {k: v for k, v in words.items() if isinstance(v, str)}

    def fill(self, pattern: str, line: int) -> str:
        """`pattern` with each {name} of [words] replaced (words may use words)."""
        for _ in range(5):
            filled = _WORD.sub(lambda m: self._word(m, line), pattern)
            if filled == pattern:
                return filled
            pattern = filled
        return pattern

    def _word(self, match: re.Match[str], line: int) -> str:
        name = match.group(1)
        if name not in self.words:
            self.problems.append(f"{self.file.where(line)}: {{{name}}} is not a pattern of [words]")
            return match.group(0)
        return f"(?:{self.words[name]})"

    def _compiled(self, key: str, pattern: Any, line: int) -> re.Pattern[str] | None:
        if not isinstance(pattern, str) or not pattern:
            self.problems.append(f"{self.file.where(line)}: {key}: a pattern must be a string")
            return None
        try:
            return re.compile(self.fill(pattern, line))
        except re.error as exc:
            self.problems.append(f"{self.file.where(line)}: {key}: bad pattern {pattern!r}: {exc}")
            return None

    def patterns(self, key: str, value: Any, line: int) -> Cues:
        """A list of patterns (each a string, or a list of strings found together)."""
        if not isinstance(value, list):
            self.problems.append(f"{self.file.where(line)}: {key} must be a list of patterns")
            return Cues(None)
        single, together = [], []
        for item in value:
            if isinstance(item, list):
                group = [self._compiled(key, p, line) for p in item]
                if group and all(group):
                    together.append(tuple(group))
            elif self._compiled(key, item, line) is not None:
                single.append(self.fill(item, line))
        return Cues(_alternation(single), tuple(together))

    def kind(self, number: int, raw: Any, help_keys: Mapping[str, str]) -> DangerKind | None:
        file, problems = self.file, self.problems
        start = _kind_line(file, number)
        if not isinstance(raw, dict):
            problems.append(f"{file.where(start)}: a kind must be a table ([[kinds]])")
            return None
        before = len(problems)
        texts = {}
        for name in ("key", "name", "first"):
            value = raw.get(name)
            if not isinstance(value, str) or not value.strip():
                problems.append(f"{file.where(start)}: kind needs {name}")
            texts[name] = str(value or "").strip()
        then = str(raw.get("then", "")).strip()
        help_list = raw.get("help", [])
        for key in help_list:
            if key not in help_keys:
                problems.append(f"{file.where(start)}: help key {key!r} is not in help.toml")
        for number_text in PHONE.findall(texts["first"] + "\n" + then):
            if number_text not in help_keys:
                problems.append(
                    f"{file.where(start)}: {number_text} in the reply of {texts['key']} is not "
                    "a number of help.toml (numbers are checked there)"
                )
        negated_by = raw.get("negated_by", list(MARKERS))
        now_beats = raw.get("now_beats", ["past", "hypothetical"])
        if not set(negated_by) | set(now_beats) <= set(MARKERS):
            problems.append(
                f"{file.where(start)}: negated_by and now_beats take {', '.join(MARKERS)}"
            )
        cues = {
            name: self.patterns(name, raw.get(name, []), start)
            for name in ("cues", "cues_now", "strong", "not_if")
        }
        signs = self.signs(raw.get("signs", {}), start)
        need = raw.get("need", 2)
        core = raw.get("core", list(signs))
        if not isinstance(need, int) or need < 1 or not set(core) <= set(signs):
            problems.append(f"{file.where(start)}: need is a number, core names signs")
        if len(problems) > before:
            return None
        return DangerKind(
            key=texts["key"],
            name=texts["name"],
            first=texts["first"],
            then=then,
            help=tuple(help_list),
            entry=raw.get("entry"),
            negated_by=frozenset(negated_by),
            now_beats=frozenset(now_beats),
            **cues,
            signs=signs,
            need=need,
            core=frozenset(core),
        )

    def signs(self, table: Any, line: int) -> dict[str, re.Pattern[str]]:
        """A kind's signs: name -> pattern (a list of patterns is their alternation)."""
        if not isinstance(table, dict):
            self.problems.append(f"{self.file.where(line)}: signs must be a table")
            return {}
        signs = {}
        for name, value in table.items():
            found = self.patterns(
                f"signs.{name}", value if isinstance(value, list) else [value], line
            )
            if found.any is not None:
                signs[name] = found.any
        return signs


def _kind_line(file: TomlFile, number: int) -> int:
    seen = 0
    for line, text in enumerate(file.lines, 1):
        if text.strip().startswith("[[kinds]]"):
            seen += 1
            if seen == number:
                return line
    return 1
