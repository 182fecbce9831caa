"""`legalbot kb eval FILE.tsv`: how often the bot finds the right theme, and keeps quiet when it should.

Definitions (each question is asked statelessly, as `legalbot ask` does):
- top-1 (in scope): the bot answers directly (matched) from an entry of an accepted theme;
- top-3 (in scope): the bot does not fall back, and an accepted theme is among the first
  three entries ranked (what "您是不是想问" shows);
- fallback: the bot neither answers nor suggests (fallback text, or greeting for 你好);
  precision = fallbacks that were out of scope / all fallbacks, recall = out-of-scope
  questions that got the fallback / all out-of-scope questions;
- wrong answers: direct answers from a theme not accepted (in scope) or to out-of-scope
  questions: the failure residents are hurt by.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from .answerer import Answer, Answerer


@dataclass(frozen=True)
class Miss:
    """A question the bot got wrong, for tuning the dictionaries."""

    question: str
    expected: tuple[str, ...]
    kind: str
    theme: str | None
    score: float
    ranked: list[tuple[str, str, float]]

    def line(self) -> str:
        want = "|".join(self.expected) or "none"
        top = ", ".join(f"{e}:{s:.2f}" for e, _, s in self.ranked[:3])
        return f"{want:<24} {self.kind:<8} {self.theme or '-':<18} {self.score:.2f}  {self.question}  [{top}]"


@dataclass
class EvalReport:
    """The figures of one evaluation run and the questions it missed."""

    counts: dict[str, int] = field(default_factory=dict)
    misses: list[Miss] = field(default_factory=list)

    def _ratio(self, num: str, den: str) -> float:
        return self.counts.get(num, 0) / self.counts[den] if self.counts.get(den) else 0.0

    @property
    def top1(self) -> float:
        return self._ratio("top1", "in_scope")

    @property
    def top3(self) -> float:
        return self._ratio("top3", "in_scope")

    @property
    def fallback_precision(self) -> float:
        return self._ratio("fallback_right", "fallbacks")

    @property
    def fallback_recall(self) -> float:
        return self._ratio("fallback_right", "out_of_scope")

    def lines(self) -> list[str]:
        """The report as printed by `legalbot kb eval`."""
        c = self.counts
        return [
            f"questions: {c.get('total', 0)} ({c.get('in_scope', 0)} in scope, "
            f"{c.get('out_of_scope', 0)} out of scope)",
            f"top-1 theme accuracy (in scope): {self.top1:.1%} ({c.get('top1', 0)}/{c.get('in_scope', 0)})",
            f"top-3 theme accuracy (in scope): {self.top3:.1%} ({c.get('top3', 0)}/{c.get('in_scope', 0)})",
            f"fallback precision: {self.fallback_precision:.1%} "
            f"({c.get('fallback_right', 0)}/{c.get('fallbacks', 0)})",
            f"fallback recall (out of scope): {self.fallback_recall:.1%} "
            f"({c.get('fallback_right', 0)}/{c.get('out_of_scope', 0)})",
            f"answered, in scope: {c.get('answered', 0)}; suggested: {c.get('suggested', 0)}; "
            f"wrong direct answers: {c.get('wrong_answers', 0)}",
        ]


def read_questions(tsv_path: Path) -> list[tuple[tuple[str, ...], str]]:
    """(accepted theme slugs, question) of each row; `none` gives no slugs."""
    rows = []
    with Path(tsv_path).open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            question = (row.get("question") or "").strip()
            themes = (row.get("themes") or "").strip()
            if not question or not themes:
                continue
            slugs = () if themes.lower() == "none" else tuple(t.strip() for t in themes.split("|"))
            rows.append((slugs, question))
    return rows


def evaluate(answerer: Answerer, tsv_path: Path) -> EvalReport:
    """Ask every question of the file (no conversation state) and score the answers."""
    report = EvalReport({k: 0 for k in _COUNTS})
    for expected, question in read_questions(tsv_path):
        answer = answerer.ask(question)
        if _score(report.counts, expected, answer):
            report.misses.append(
                Miss(question, expected, answer.kind, answer.theme, answer.score, answer.ranked)
            )
    return report


_COUNTS = [
    "total",
    "in_scope",
    "out_of_scope",
    "top1",
    "top3",
    "fallbacks",
    "fallback_right",
    "answered",
    "suggested",
    "wrong_answers",
]


def _score(c: dict[str, int], expected: tuple[str, ...], answer: Answer) -> bool:
    """Add one answer to the counts; True when it is a miss worth looking at."""
    fell_back = answer.kind not in ("entry", "suggest")
    c["total"] += 1
    c["fallbacks"] += fell_back
    if not expected:
        c["out_of_scope"] += 1
        c["fallback_right"] += fell_back
        c["wrong_answers"] += answer.matched
        return not fell_back
    c["in_scope"] += 1
    c["answered"] += answer.matched
    c["suggested"] += answer.kind == "suggest"
    top1 = answer.matched and answer.theme in expected
    top3 = not fell_back and any(theme in expected for _, theme, _ in answer.ranked[:3])
    c["top1"] += top1
    c["top3"] += top3
    c["wrong_answers"] += answer.matched and not top1
    return not top1
