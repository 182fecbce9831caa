"""Fit the confidence model of bot/answer/calibration.py on residents' questions.

    python bench/fit_calibration.py [TSV ...] [--write]

For every question of the development set (tests/data/dev_questions.tsv by default)
the index ranks its candidates; each candidate is one example, labelled 1 when its
theme is one the question accepts (0 for every candidate of an out-of-scope question).
A logistic regression with a small L2 penalty is fitted on them. The script prints
5-fold cross-validated figures (folds by question, so no question is scored by a model
that saw it), which are what to expect on questions the team has not seen, then the
in-sample figures, and the coefficients; --write puts them into calibration.py.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.answer import analyzer, calibration, load_knowledge_base, replies  # noqa: E402
from bot.answer.evaluate import read_questions  # noqa: E402

TOWN = {
    k: k
    for k in ("name", "mediation", "police_mediation", "legal_aid", "justice_office", "committees")
}
L2 = 1.0
FOLDS = 5
# Each question's two best candidates are its examples (the confidence decides between
# them and whether to answer at all); out-of-scope questions, a fifth of the set, weigh
# 5 times, so that the fallback they need is not outvoted.
TOP = 2
OOS_WEIGHT = 5.0
# Real consultation questions are fewer than residents' short ones and harder: they
# weigh more, so the model does not learn only the short questions' easy cases.
WEIGHTS = {"real_questions.tsv": 2.0}
# The held-out precision the long model is held to on real consultation questions.
PRECISION = 0.87


def examples(tsvs: list[Path], top: int) -> list[tuple[np.ndarray, np.ndarray, bool, float]]:
    """(feature matrix, labels, in scope, weight) of each question that reaches the search.

    Questions the answerer settles before the search (a danger, a greeting or menu word,
    a number, an entry's own phrasing, a fact of help.toml) are left out, and so are the
    candidates it would not answer from (an entry without a word naming an area the base
    does not cover), as bot/answer/answerer.py does.
    """
    kb = load_knowledge_base(ROOT / "content", TOWN)
    index = kb.index
    rows = []
    for tsv in tsvs:
        weight = WEIGHTS.get(tsv.name, 1.0)
        for expected, question in read_questions(tsv):
            plain = analyzer.normalize(question)
            if replies.word_kind(plain, ("greeting", "menu", "thanks", "more")):
                continue
            if replies.parse_number(plain) is not None or kb.triage.check(question):
                continue
            if kb.by_phrasing(question) or kb.facts.answer(question, date.today()):
                continue
            ranking = index.search(question)
            named = kb.areas.named(question)
            keep = [
                i
                for i, doc in enumerate(ranking.docs[: len(ranking.hits)])
                if all(kb.holds(kb.entries[doc], w) for w in named.words)
            ][:top]
            if not keep:
                empty = np.zeros((0, len(calibration.FEATURES)))
                rows.append((empty, np.zeros(0), bool(expected), weight, tsv.name))
                continue
            themes = index.themes[ranking.docs][keep]
            labels = np.array([t in expected for t in themes], dtype=float)
            feats = {k: v[keep] for k, v in ranking.features.items()}
            rows.append((calibration.design(feats), labels, bool(expected), weight, tsv.name))
    return rows


def fit(
    x: np.ndarray, y: np.ndarray, s: np.ndarray | None = None, l2: float = L2
) -> tuple[np.ndarray, float]:
    """Weighted logistic regression by Newton's method; the bias is not penalised."""
    s = np.ones(len(x)) if s is None else s
    a = np.column_stack([np.ones(len(x)), x])
    w = np.zeros(a.shape[1])
    penalty = np.full(a.shape[1], l2)
    penalty[0] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-(a @ w)))
        grad = a.T @ (s * (p - y)) + penalty * w
        hess = (a * (s * p * (1 - p))[:, None]).T @ a + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[1:], float(w[0])


def score(rows, weights, bias, answer: float, suggest: float) -> dict[str, float]:
    """The figures of `legalbot kb eval` for these questions under this model: top-1 and
    fallback recall on residents' questions; share answered and precision on all."""
    c = dict.fromkeys(("n", "in", "out", "top1", "fallback_out", "answered", "right"), 0)
    for x, y, in_scope, *_ in rows:
        conf = 1 / (1 + np.exp(-(bias + x @ weights))) if len(x) else np.zeros(0)
        best = int(np.argmax(conf)) if len(conf) else -1
        top = conf[best] if len(conf) else 0.0
        answered, suggested = top >= answer, suggest <= top < answer
        right = answered and y[best] == 1
        c["n"] += 1
        c["in" if in_scope else "out"] += 1
        c["top1"] += in_scope and right
        c["fallback_out"] += (not in_scope) and not (answered or suggested)
        c["answered"] += answered
        c["right"] += right
    return {
        "top-1 (in scope)": c["top1"] / max(c["in"], 1),
        "fallback recall": c["fallback_out"] / max(c["out"], 1),
        "answered": c["answered"] / max(c["n"], 1),
        "precision": c["right"] / max(c["answered"], 1),
    }


def stack(rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Examples of all questions; out-of-scope ones weigh OOS_WEIGHT each (they are few)."""
    rows = [r for r in rows if len(r[0])]
    x = np.vstack([r[0] for r in rows])
    y = np.concatenate([r[1] for r in rows])
    s = np.concatenate([np.full(len(r[1]), r[3] * (1.0 if r[2] else OOS_WEIGHT)) for r in rows])
    return x, y, s


def cross_validate(
    rows, answer: float, suggest: float, shift: float = 0.0
) -> dict[str, dict[str, float]]:
    """Held-out figures per set: each question scored by a model fitted without it
    (its bias lowered by `shift`)."""
    order = np.random.default_rng(7).permutation(len(rows))
    held: list = [None] * len(rows)
    for fold in range(FOLDS):
        test = set(order[fold::FOLDS].tolist())
        w, b = fit(*stack([r for i, r in enumerate(rows) if i not in test]))
        for i in test:
            held[i] = (w, b - shift)
    figures = {}
    for name in dict.fromkeys(r[4] for r in rows):
        part = [(i, r) for i, r in enumerate(rows) if r[4] == name]
        totals = dict.fromkeys(
            ("top-1 (in scope)", "fallback recall", "answered", "precision"), 0.0
        )
        # Each question with its own fold's model: score them one by one and add up.
        counts = dict.fromkeys(("in", "out", "n", "top1", "fb", "ans", "right"), 0)
        for i, r in part:
            w, b = held[i]
            one = score([r], w, b, answer, suggest)
            counts["n"] += 1
            counts["in" if r[2] else "out"] += 1
            counts["top1"] += one["top-1 (in scope)"] if r[2] else 0
            counts["fb"] += one["fallback recall"] if not r[2] else 0
            counts["ans"] += one["answered"]
            counts["right"] += one["precision"] * one["answered"]
        totals["top-1 (in scope)"] = counts["top1"] / max(counts["in"], 1)
        totals["fallback recall"] = counts["fb"] / max(counts["out"], 1)
        totals["answered"] = counts["ans"] / max(counts["n"], 1)
        totals["precision"] = counts["right"] / max(counts["ans"], 1)
        figures[name] = totals
    return figures


def write(models: dict[str, tuple[np.ndarray, float]]) -> None:
    """Put each group's coefficients and bias into calibration.py."""
    path = ROOT / "bot" / "answer" / "calibration.py"
    text = path.read_text("utf-8")
    for group, (weights, bias) in models.items():
        name = group.upper()
        body = "".join(
            f'    "{n}": {w:.3f},\n' for n, w in zip(calibration.FEATURES, weights, strict=True)
        )
        text = re.sub(rf"\n{name} = \{{\n.*?\n\}}", f"\n{name} = {{\n{body}}}", text, flags=re.S)
        text = re.sub(rf"\n{name}_BIAS = .*", f"\n{name}_BIAS = {bias:.3f}", text)
    path.write_text(text, "utf-8")


def held_to_precision(rows, weights, bias, answer: float, suggest: float):
    """The long model with its bias lowered, in steps of 0.1, until its held-out
    precision on real consultation questions reaches PRECISION at the answer threshold:
    a long question answered from the wrong theme is the failure residents are hurt by,
    so the model leans to "did you mean" there (README, Benchmarks)."""
    shift = 0.0
    while shift < 3.0:
        figures = cross_validate(rows, answer, suggest, shift)
        real = figures.get("real_questions.tsv")
        if real is None or real["precision"] >= PRECISION:
            break
        shift += 0.1
    print(f"  long model: bias lowered by {shift:.1f} for held-out precision {PRECISION:.0%}")
    return weights, bias - shift


def group_of(row) -> str:
    """short or long, as calibration.is_long tells the answerer (n is the same for every
    candidate of a question)."""
    x = row[0]
    if not len(x):
        return "short"
    return "long" if x[0][calibration.FEATURES.index("n")] > calibration.LONG_TERMS else "short"


def main() -> None:
    global OOS_WEIGHT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tsv", nargs="*", type=Path)
    parser.add_argument("--answer", type=float, default=0.55)
    parser.add_argument("--suggest", type=float, default=0.3)
    parser.add_argument("--top", type=int, default=TOP, help="candidates per question")
    parser.add_argument("--oos-weight", type=float, default=OOS_WEIGHT)
    parser.add_argument("--features", help="comma-separated subset of features to try")
    parser.add_argument("--write", action="store_true", help="update calibration.py")
    args = parser.parse_args()
    OOS_WEIGHT = args.oos_weight
    if args.features:
        calibration.FEATURES = tuple(args.features.split(","))
    # The examples are ranked by BM25 score alone; the current coefficients play no part.
    calibration.SHORT = calibration.LONG = dict.fromkeys(calibration.FEATURES, 0.0)
    default = [ROOT / "tests" / "data" / n for n in ("dev_questions.tsv", "real_questions.tsv")]
    rows = examples(args.tsv or default, args.top)
    print(f"questions: {len(rows)} ({sum(r[2] for r in rows)} in scope)")
    models = {}
    for group in ("short", "long"):
        part = [r for r in rows if group_of(r) == group]
        print(f"-- {group} questions: {len(part)}")
        for name, figures in cross_validate(part, args.answer, args.suggest).items():
            print(
                f"cross-validated, {name}: " + ", ".join(f"{k} {v:.3f}" for k, v in figures.items())
            )
        for threshold in (0.5, 0.6, 0.7):
            for name, held in cross_validate(part, threshold, args.suggest).items():
                print(
                    f"  at {threshold}: {name}: answered {held['answered']:.3f}, "
                    f"precision {held['precision']:.3f}"
                )
        models[group] = fit(*stack(part))
        if group == "long":
            models[group] = held_to_precision(part, *models[group], args.answer, args.suggest)
        weights, bias = models[group]
        print(
            "  "
            + ", ".join(f"{n} {w:+.3f}" for n, w in zip(calibration.FEATURES, weights, strict=True))
            + f", bias {bias:+.3f}"
        )
    if args.write:
        write(models)
        print("written to bot/answer/calibration.py")


if __name__ == "__main__":
    main()
