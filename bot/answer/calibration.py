"""How sure we are: P(the entry is from the right theme) from how the question matches it.

A logistic model over the features SearchIndex.features computes, fitted by
`python bench/fit_calibration.py` on tests/data/dev_questions.tsv (5-fold
cross-validation by question; the script prints the held-out figures and the numbers
below). The thresholds of [knowledge] in config.toml compare against its output, so
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
COEFFICIENTS = {
    "rel": 2.496,
    "phrase": -1.938,
    "precision": 1.672,
    "cov": -0.196,
    "matched": 0.179,
    "tgap": 2.430,
    "share": 7.559,
    "oos": -3.068,
    "n": 0.570,
    "single": -0.178,
    "topic": 0.0,
    "tagree": 0.0,
    "tnone": 0.0,
}
BIAS = -8.103


def design(features: dict[str, np.ndarray]) -> np.ndarray:
    """The features as a matrix, one row per candidate, columns in FEATURES order."""
    return np.column_stack([np.asarray(features[name], dtype=float) for name in FEATURES])


def confidence(features: dict[str, np.ndarray]) -> np.ndarray:
    """Calibrated 0..1 confidence for each candidate entry."""
    weights = np.array([COEFFICIENTS[name] for name in FEATURES])
    z = BIAS + design(features) @ weights
    return 1.0 / (1.0 + np.exp(-z))
