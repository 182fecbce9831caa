"""Models learnt from the knowledge base's own data when it loads (scikit-learn underneath).

Two readers beside the ranking, each a logistic regression over TF-IDF features, fitted
with scikit-learn when first needed (the serving holder fits both while it builds the
base, before it takes requests; validating or exporting fits neither) and then scored
from its weights with one matrix product (scikit-learn's own transform costs far more):
- the danger reader (triage.py): character 1- to 3-grams of messages labelled with a kind
  of danger or `none` (content/triage_examples.tsv, and the entries' phrasings as
  everyday questions);
- the topic reader (index.py): the words of each entry's phrasings, title, keywords and
  answer, labelled with its theme, and content/examples/*.tsv (questions as residents and
  consultation services write them, including `none` for what no theme covers).
Staff who find a miss add a line to the examples; the next reload learns it.
"""

from __future__ import annotations

import csv
import math
import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

NONE = "none"

Features = Callable[[str], Iterable[str]]


@dataclass(frozen=True)
class Example:
    """One labelled text of an examples file."""

    label: str
    text: str


def read_examples(
    path: Path, labels: Iterable[str], problems: list[str], column: str = "kind"
) -> list[Example]:
    """The rows of a `label<TAB>text` file with a header line; unknown labels are problems."""
    if not path.exists():
        return []
    known = {*labels, NONE}
    examples = []
    with path.open(encoding="utf-8", newline="") as fh:
        for line, row in enumerate(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE), 1):
            if line == 1 or not row or not "".join(row).strip():
                continue
            if len(row) != 2 or not row[1].strip():
                problems.append(f"{path}:{line}: 每行要写成 `{column}<TAB>文字`")
                continue
            label = row[0].strip()
            if label not in known:
                problems.append(f"{path}:{line}: 不认识的 {column} {label!r}")
                continue
            examples.append(Example(label, row[1].strip()))
    return examples


def bounded(examples: list[Example], per_label: int, seed: int = 7) -> list[Example]:
    """At most `per_label` examples of each label (a fixed random choice), so the fit
    stays quick however large the base grows."""
    by_label: dict[str, list[Example]] = {}
    for example in examples:
        by_label.setdefault(example.label, []).append(example)
    chosen = []
    for label in sorted(by_label):
        group = by_label[label]
        if len(group) > per_label:
            group = random.Random(f"{seed}:{label}").sample(group, per_label)
        chosen += group
    return chosen


def char_grams(text: str, low: int = 1, high: int = 3) -> list[str]:
    """Character 1- to 3-grams of a (compact) text."""
    return [text[i : i + n] for n in range(low, high + 1) for i in range(len(text) - n + 1)]


class TextModel:
    """A fitted TF-IDF logistic regression: per feature its IDF and weight for each label."""

    def __init__(
        self,
        labels: Sequence[str],
        vocabulary: dict[str, int],
        idf: np.ndarray,
        weights: np.ndarray,
        intercept: np.ndarray,
        features: Features,
    ) -> None:
        self.labels = list(labels)
        self._vocabulary = vocabulary  # feature -> its row
        self._idf = idf
        self._weights = weights  # a row per feature: IDF × the label's coefficient
        self._intercept = intercept
        self._features = features

    @classmethod
    def learn(
        cls,
        examples: Sequence[Example],
        features: Features,
        strength: float = 4.0,
        balanced: bool = True,
    ) -> TextModel | None:
        """Fit on the examples; None when they do not hold two labels to tell apart."""
        labels = [e.label for e in examples]
        if len(set(labels)) < 2:
            return None
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        vectorizer = TfidfVectorizer(analyzer=features, sublinear_tf=True)
        matrix = vectorizer.fit_transform([e.text for e in examples])
        # SAGA to a tolerance of 1e-3: the same predictions as L-BFGS run to convergence
        # here, in a tenth of the time (the fit runs on every reload).
        model = LogisticRegression(
            C=strength,
            class_weight="balanced" if balanced else None,
            solver="saga",
            tol=1e-3,
            max_iter=500,
            random_state=0,  # SAGA visits the examples in a random order: keep it fixed
        )
        model.fit(matrix, labels)
        coef, intercept = model.coef_.T, model.intercept_
        if len(model.classes_) == 2:  # one row for two labels: the second's log-odds
            coef = np.column_stack([-coef[:, 0], coef[:, 0]]) / 2
            intercept = np.array([-intercept[0], intercept[0]]) / 2
        idf = np.asarray(vectorizer.idf_)
        vocabulary = {feature: int(i) for feature, i in vectorizer.vocabulary_.items()}
        weights = np.ascontiguousarray(idf[:, None] * coef)
        labels = [str(c) for c in model.classes_]
        return cls(labels, vocabulary, idf, weights, np.asarray(intercept), features)

    def probabilities(self, text: str) -> dict[str, float]:
        """P(label | text), as the fitted regression gives it."""
        return self.probabilities_of(self._features(text))

    def probabilities_of(self, features: Iterable[str]) -> dict[str, float]:
        """P(label) for a text already turned into its features (the search has them)."""
        rows, tfs = [], []
        vocabulary = self._vocabulary
        for feature, count in Counter(features).items():
            row = vocabulary.get(feature)
            if row is not None:  # a feature never seen in the examples weighs nothing
                rows.append(row)
                tfs.append(1.0 + math.log(count))  # sublinear term frequency, as fitted
        logits = self._intercept
        if rows:
            tf = np.array(tfs)
            norm = math.sqrt(float(np.square(tf * self._idf[rows]).sum()))  # the L2 norm
            logits = logits + (tf @ self._weights[rows]) / norm
        odds = np.exp(logits - logits.max())
        return dict(zip(self.labels, (odds / odds.sum()).tolist(), strict=True))
