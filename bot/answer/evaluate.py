"""`legalbot kb eval`: how often the bot answers, answers right, keeps quiet, and sees danger.

A labelled file is either a set of questions (columns `themes`, `question`; `none` for
a question no theme covers) or a set of danger messages (columns `kind`, `message`; a
kind of content/triage.toml, or `none` for a look-alike that is not an emergency).
Each line is asked statelessly, as `legalbot ask` does. Definitions:

Questions
- top-1 (in scope): the bot answers directly (matched) from an entry of an accepted theme;
- top-3 (in scope): the bot does not fall back, and an accepted theme is among the first
  three entries ranked (what "您是不是想问" shows);
- fallback: the bot neither answers nor suggests (fallback or referral text, or the
  greeting for 你好); precision = fallbacks that were out of scope / all fallbacks,
  recall = out-of-scope questions that got the fallback / all out-of-scope questions;
- answered: the share of all questions answered directly (matched); precision of
  answers: those from an accepted theme / all direct answers (an answer to an
  out-of-scope question is wrong);
- wrong answers: direct answers from a theme not accepted, or to out-of-scope questions.
Danger messages
- recall: danger messages the reply treats as urgent (emergency number first);
- false alarms: look-alikes treated as urgent / all look-alikes.
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


class _Ratio:
    """A figure of the report: one count over another (0 when the other is 0)."""

    def __init__(self, num: str, den: str) -> None:
        self.num, self.den = num, den

    def __get__(self, report: EvalReport, owner: type | None = None) -> float:
        counts = report.counts
        return counts.get(self.num, 0) / counts[self.den] if counts.get(self.den) else 0.0


@dataclass
class EvalReport:
    """The figures of one evaluation run and the messages it missed."""

    counts: dict[str, int] = field(default_factory=dict)
    misses: list[Miss] = field(default_factory=list)

    @property
    def is_danger(self) -> bool:
        return "messages" in self.counts

    top1 = _Ratio("top1", "in_scope")
    top3 = _Ratio("top3", "in_scope")
    fallback_precision = _Ratio("fallback_right", "fallbacks")
    fallback_recall = _Ratio("fallback_right", "out_of_scope")
    answered_share = _Ratio("matched", "total")
    answer_precision = _Ratio("matched_right", "matched")
    danger_recall = _Ratio("caught", "dangers")
    false_alarms = _Ratio("alarms", "lookalikes")

    def lines(self) -> list[str]:
        """The report as printed by `legalbot kb eval`."""
        c = self.counts
        if self.is_danger:
            return [
                f"danger messages: {c['messages']} ({c['dangers']} in danger, "
                f"{c['lookalikes']} look-alikes)",
                f"danger recall: {self.danger_recall:.1%} ({c['caught']}/{c['dangers']}); "
                f"right kind first: {c['kind_right']}",
                f"false alarms: {self.false_alarms:.1%} ({c['alarms']}/{c['lookalikes']})",
            ]
        return [
            f"questions: {c.get('total', 0)} ({c.get('in_scope', 0)} in scope, "
            f"{c.get('out_of_scope', 0)} out of scope)",
            f"top-1 theme accuracy (in scope): {self.top1:.1%} ({c.get('top1', 0)}/{c.get('in_scope', 0)})",
            f"top-3 theme accuracy (in scope): {self.top3:.1%} ({c.get('top3', 0)}/{c.get('in_scope', 0)})",
            f"fallback precision: {self.fallback_precision:.1%} "
            f"({c.get('fallback_right', 0)}/{c.get('fallbacks', 0)})",
            f"fallback recall (out of scope): {self.fallback_recall:.1%} "
            f"({c.get('fallback_right', 0)}/{c.get('out_of_scope', 0)})",
            f"answered directly: {self.answered_share:.1%} ({c.get('matched', 0)}/{c.get('total', 0)}); "
            f"precision of the answers: {self.answer_precision:.1%} "
            f"({c.get('matched_right', 0)}/{c.get('matched', 0)})",
            f"answered, in scope: {c.get('answered', 0)}; suggested: {c.get('suggested', 0)}; "
            f"urgent: {c.get('urgent', 0)}; wrong direct answers: {c.get('wrong_answers', 0)}",
        ]


def _rows(tsv_path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with Path(tsv_path).open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        return list(reader.fieldnames or []), list(reader)


def read_questions(tsv_path: Path) -> list[tuple[tuple[str, ...], str]]:
    """(accepted theme slugs, question) of each row; `none` gives no slugs."""
    rows = []
    for row in _rows(tsv_path)[1]:
        question = (row.get("question") or "").strip()
        themes = (row.get("themes") or "").strip()
        if not question or not themes:
            continue
        slugs = () if themes.lower() == "none" else tuple(t.strip() for t in themes.split("|"))
        rows.append((slugs, question))
    return rows


def read_dangers(tsv_path: Path) -> list[tuple[str, str]]:
    """(kind or "none", message) of each row of a danger set."""
    rows = []
    for row in _rows(tsv_path)[1]:
        kind, message = (row.get("kind") or "").strip(), (row.get("message") or "").strip()
        if kind and message:
            rows.append((kind, message))
    return rows


def evaluate(answerer: Answerer, tsv_path: Path) -> EvalReport:
    """Ask every line of the file (no conversation state) and score the answers.

    ValueError when the file has neither `themes`/`question` nor `kind`/`message` columns.
    """
    columns = set(_rows(tsv_path)[0])
    if {"kind", "message"} <= columns:
        return _evaluate_dangers(answerer, tsv_path)
    if not {"themes", "question"} <= columns:
        raise ValueError("needs the columns themes and question (or kind and message)")
    report = EvalReport({k: 0 for k in _COUNTS})
    for expected, question in read_questions(tsv_path):
        answer = answerer.ask(question)
        if _score(report.counts, expected, answer):
            report.misses.append(
                Miss(question, expected, answer.kind, answer.theme, answer.score, answer.ranked)
            )
    return report


def _evaluate_dangers(answerer: Answerer, tsv_path: Path) -> EvalReport:
    c = dict.fromkeys(("messages", "dangers", "lookalikes", "caught", "alarms", "kind_right"), 0)
    report = EvalReport(c)
    for kind, message in read_dangers(tsv_path):
        answer = answerer.ask(message)
        danger = kind != "none"
        c["messages"] += 1
        c["dangers" if danger else "lookalikes"] += 1
        c["caught"] += danger and answer.urgent
        c["alarms"] += not danger and answer.urgent
        c["kind_right"] += danger and answer.danger == kind
        if danger != answer.urgent:
            expected = (kind,)
            report.misses.append(Miss(message, expected, answer.kind, answer.danger, 0.0, []))
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
    "urgent",
    "matched",
    "matched_right",
    "wrong_answers",
]


def _score(c: dict[str, int], expected: tuple[str, ...], answer: Answer) -> bool:
    """Add one answer to the counts; True when it is a miss worth looking at."""
    fell_back = answer.kind not in ("entry", "suggest", "urgent", "fact")
    c["total"] += 1
    c["fallbacks"] += fell_back
    c["urgent"] += answer.urgent
    c["matched"] += answer.matched
    c["matched_right"] += answer.matched and answer.theme in expected
    if not expected:
        c["out_of_scope"] += 1
        c["fallback_right"] += fell_back
        c["wrong_answers"] += answer.matched
        return not fell_back
    c["in_scope"] += 1
    c["answered"] += answer.matched
    c["suggested"] += answer.kind == "suggest"
    top1 = answer.matched and answer.theme in expected
    # The answer itself counts among the three (a phrasing or a fact ranks nothing).
    top3 = top1 or (not fell_back and any(theme in expected for _, theme, _ in answer.ranked[:3]))
    c["top1"] += top1
    c["top3"] += top3
    c["wrong_answers"] += answer.matched and not top1
    return not top1
