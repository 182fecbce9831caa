"""One BM25 index per field of the entries (bm25s underneath), read term by term."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence

import bm25s
import numpy as np

# bm25s sets its logger to DEBUG when imported and logs every index build.
logging.getLogger("bm25s").setLevel(logging.WARNING)

# Lucene's IDF, log(1 + (N - df + 0.5) / (df + 0.5)), stays positive for a term found in
# half the documents of a small corpus, where Okapi's original IDF drops to zero or
# below and a matching word would count against an entry.
_METHOD = "lucene"


class FieldIndex:
    """BM25 over one field (questions, keywords, title, answer or bigrams) of every entry."""

    def __init__(self, docs: Sequence[list[str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.size = len(docs)
        self._bm25 = bm25s.BM25(k1=k1, b=b, method=_METHOD)
        self._bm25.index([d or [""] for d in docs], show_progress=False)
        self.vocab: dict[str, int] = self._bm25.vocab_dict
        scores = self._bm25.scores
        self._data: np.ndarray = scores["data"]
        self._docs: np.ndarray = scores["indices"]
        self._ptr: np.ndarray = scores["indptr"]

    def self_scores(self) -> np.ndarray:
        """Each document's score against itself: the most any question can score on it."""
        return np.bincount(self._docs, weights=self._data, minlength=self.size)

    def __contains__(self, term: str) -> bool:
        return bool(term) and term in self.vocab

    def add_scores(self, scores: np.ndarray, terms: Iterable[str], weight: float) -> None:
        """Add `weight` times each term's BM25 contribution to `scores` (one slot per entry).

        A term lists each document once, so plain fancy-index addition is exact and
        several times faster than bm25s' np.add.at.
        """
        for term in terms:
            tid = self.vocab.get(term) if term else None
            if tid is None:
                continue
            start, end = self._ptr[tid], self._ptr[tid + 1]
            scores[self._docs[start:end]] += weight * self._data[start:end]

    def df(self, term: str) -> int:
        """In how many entries the term occurs."""
        tid = self.vocab.get(term) if term else None
        return 0 if tid is None else int(self._ptr[tid + 1] - self._ptr[tid])

    def idf(self, term: str) -> float:
        """Lucene's IDF of the term; for an unknown term, that of a term found once."""
        df = max(self.df(term), 1)
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    def contains(self, term: str, docs: np.ndarray) -> np.ndarray:
        """Which of `docs` hold the term (document lists are sorted, so a binary search)."""
        tid = self.vocab.get(term) if term else None
        if tid is None:
            return np.zeros(len(docs), dtype=bool)
        found = self._docs[self._ptr[tid] : self._ptr[tid + 1]]
        if not len(found):
            return np.zeros(len(docs), dtype=bool)
        pos = np.minimum(np.searchsorted(found, docs), len(found) - 1)
        return found[pos] == docs
