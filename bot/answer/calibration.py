"""How sure we are: P(the entry is from the right theme) from how the question matches it.

Logistic models over the features SearchIndex.features computes, fitted by
`python bench/fit_calibration.py` on the development sets tests/data/dev_questions.tsv
and real_questions.tsv (5-fold cross-validation by question; the script prints the
held-out figures and the numbers below). The thresholds of [knowledge] in config.toml compare against its output, so
re-run the script and paste its numbers whenever a feature or the ranking changes.
"""

from __future__ import annotations

import numpy as np

# rel: BM25 score over the question's total term weight; phrase: the same for the one
# phrasing of the entry closest to the question; precision: the largest share of one
# phrasing's own score the question reaches; cov / matched: the question's IDF weight
# the entry holds, as a share and absolute; tgap: lead over the best entry of another
# theme; share: the theme's share of the candidates' scores and the question's weight;
# oos: out-of-scope words; n: meaningful words (capped); single: a one-word question.
# topic / tagree / tnone: the topic reader's P(the candidate's theme), whether that theme
# is its first choice, and its P(no theme of the base).
FEATURES = (
    "rel",
    "phrase",
    "precision",
    "cov",
    "matched",
    "tgap",
    "share",
    "oos",
    "n",
    "single",
    "topic",
    "tagree",
    "tnone",
)
# Short questions (how residents write: a few words) and long ones (several facts, as
# consultation sites get them) are matched differently: one model each, fitted apart.
LONG_TERMS = 8  # a question with more meaningful words than this is a long one

SHORT = {
    "rel": 1.289,
    "phrase": -0.981,
    "precision": 0.156,
    "cov": 0.392,
    "matched": 0.126,
    "tgap": 0.619,
    "share": -0.725,
    "oos": -1.930,
    "n": -0.011,
    "single": -0.745,
    "topic": 4.227,
    "tagree": 1.275,
    "tnone": -3.957,
}
SHORT_BIAS = -3.887

LONG = {
    "rel": 1.324,
    "phrase": -0.067,
    "precision": 1.337,
    "cov": -0.284,
    "matched": 0.029,
    "tgap": -0.296,
    "share": 1.557,
    "oos": 0.996,
    "n": -0.495,
    "single": 0.000,
    "topic": 4.091,
    "tagree": 1.097,
    "tnone": -1.386,
}
LONG_BIAS = 0.977


def design(features: dict[str, np.ndarray]) -> np.ndarray:
    """The features as a matrix, one row per candidate, columns in FEATURES order."""
    return np.column_stack([np.asarray(features[name], dtype=float) for name in FEATURES])


def is_long(features: dict[str, np.ndarray]) -> bool:
    """Whether the candidates' question is a long one (the same for every candidate)."""
    n = np.asarray(features["n"])
    return bool(len(n) and n[0] > LONG_TERMS)


def confidence(features: dict[str, np.ndarray]) -> np.ndarray:
    """Calibrated 0..1 confidence for each candidate entry."""
    coefficients, bias = (LONG, LONG_BIAS) if is_long(features) else (SHORT, SHORT_BIAS)
    weights = np.array([coefficients[name] for name in FEATURES])
    z = bias + design(features) @ weights
    return 1.0 / (1.0 + np.exp(-z))
