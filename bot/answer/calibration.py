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
    "rel": 1.432,
    "phrase": -0.946,
    "precision": 0.472,
    "cov": 0.262,
    "matched": 0.130,
    "tgap": 0.664,
    "share": -0.655,
    "oos": -2.157,
    "n": 0.061,
    "single": -0.466,
    "topic": 4.174,
    "tagree": 1.044,
    "tnone": -3.820,
}
SHORT_BIAS = -4.385

LONG = {
    "rel": 1.371,
    "phrase": -0.024,
    "precision": 1.280,
    "cov": -0.204,
    "matched": 0.029,
    "tgap": -0.250,
    "share": 1.580,
    "oos": 0.845,
    "n": -0.431,
    "single": 0.000,
    "topic": 4.250,
    "tagree": 0.864,
    "tnone": -1.563,
}
LONG_BIAS = 0.435


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
