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
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.answer import calibration, load_knowledge_base, replies  # noqa: E402
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


def examples(tsvs: list[Path], top: int) -> list[tuple[np.ndarray, np.ndarray, bool]]:
    """(feature matrix, labels, in scope) of each question that reaches the search."""
    kb = load_knowledge_base(ROOT / "content", TOWN)
    index = kb.index
    rows = []
    for tsv in tsvs:
        for expected, question in read_questions(tsv):
            if any(replies.is_word(question, k) for k in ("greeting", "menu", "thanks")):
                continue
            if replies.parse_number(question) is not None:
                continue
            ranking = index.search(question)
            if not ranking.hits:
                rows.append((np.zeros((0, len(calibration.FEATURES))), np.zeros(0), bool(expected)))
                continue
            themes = index.themes[ranking.docs][:top]
            labels = np.array([t in expected for t in themes], dtype=float)
            feats = {k: v[:top] for k, v in ranking.features.items()}
            rows.append((calibration.design(feats), labels, bool(expected)))
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
    """The figures of `legalbot kb eval` for these questions under this model."""
    c = dict.fromkeys(("in", "out", "top1", "fallback_out", "wrong", "suggest"), 0)
    for x, y, in_scope in rows:
        conf = 1 / (1 + np.exp(-(bias + x @ weights))) if len(x) else np.zeros(0)
        best = int(np.argmax(conf)) if len(conf) else -1
        top = conf[best] if len(conf) else 0.0
        answered, suggested = top >= answer, suggest <= top < answer
        right = answered and y[best] == 1
        c["in" if in_scope else "out"] += 1
        c["top1"] += in_scope and right
        c["suggest"] += in_scope and suggested
        c["fallback_out"] += (not in_scope) and not (answered or suggested)
        c["wrong"] += answered and not right
    return {
        "top-1 (in scope)": c["top1"] / max(c["in"], 1),
        "suggested (in scope)": c["suggest"] / max(c["in"], 1),
        "fallback recall": c["fallback_out"] / max(c["out"], 1),
        "wrong direct answers": c["wrong"],
    }


def stack(rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Examples of all questions; out-of-scope ones weigh OOS_WEIGHT each (they are few)."""
    rows = [r for r in rows if len(r[0])]
    x = np.vstack([r[0] for r in rows])
    y = np.concatenate([r[1] for r in rows])
    s = np.concatenate([np.full(len(r[1]), 1.0 if r[2] else OOS_WEIGHT) for r in rows])
    return x, y, s


def cross_validate(rows, answer: float, suggest: float) -> dict[str, float]:
    order = np.random.default_rng(7).permutation(len(rows))
    held: list = [None] * len(rows)
    for fold in range(FOLDS):
        test = set(order[fold::FOLDS].tolist())
        w, b = fit(*stack([r for i, r in enumerate(rows) if i not in test]))
        for i in test:
            held[i] = (w, b)
    totals: dict[str, float] = {}
    for fold in range(FOLDS):
        idx = order[fold::FOLDS]
        w, b = held[idx[0]]
        part = score([rows[i] for i in idx], w, b, answer, suggest)
        for k, v in part.items():
            weight = 1 if k == "wrong direct answers" else len(idx) / len(rows)
            totals[k] = totals.get(k, 0.0) + v * weight
    return totals


def write(weights: np.ndarray, bias: float) -> None:
    path = ROOT / "bot" / "answer" / "calibration.py"
    body = "".join(
        f'    "{n}": {w:.3f},\n' for n, w in zip(calibration.FEATURES, weights, strict=True)
    )
    text = path.read_text("utf-8")
    text = re.sub(
        r"COEFFICIENTS = \{\n.*?\n\}", "COEFFICIENTS = {\n" + body + "}", text, flags=re.S
    )
    text = re.sub(r"BIAS = .*", f"BIAS = {bias:.3f}", text)
    path.write_text(text, "utf-8")


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
    calibration.COEFFICIENTS = dict.fromkeys(calibration.FEATURES, 0.0)
    rows = examples(args.tsv or [ROOT / "tests" / "data" / "dev_questions.tsv"], args.top)
    print(f"questions: {len(rows)} ({sum(r[2] for r in rows)} in scope)")
    for name, figures in (
        ("cross-validated", cross_validate(rows, args.answer, args.suggest)),
        ("in sample", score(rows, *fit(*stack(rows)), args.answer, args.suggest)),
    ):
        print(name + ": " + ", ".join(f"{k} {v:.3f}" for k, v in figures.items()))
    weights, bias = fit(*stack(rows))
    for n, w in zip(calibration.FEATURES, weights, strict=True):
        print(f"  {n:>8} {w:+.3f}")
    print(f"  {'bias':>8} {bias:+.3f}")
    if args.write:
        write(weights, bias)
        print("written to bot/answer/calibration.py")


if __name__ == "__main__":
    main()
