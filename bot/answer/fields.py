"""One BM25 index per field of the entries (bm25s underneath), read term by term."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from itertools import chain

import bm25s
import numpy as np
from bm25s.scoring import _build_idf_array, _select_idf_scorer, _select_tfc_scorer

# bm25s sets its logger to DEBUG when imported and logs every index build.
logging.getLogger("bm25s").setLevel(logging.WARNING)

# Lucene's IDF, log(1 + (N - df + 0.5) / (df + 0.5)), stays positive for a term found in
# half the documents of a small corpus, where Okapi's original IDF drops to zero or
# below and a matching word would count against an entry.
_METHOD = "lucene"


class ArrayBM25(bm25s.BM25):
    """bm25s with its index built on whole arrays rather than one document at a time.

    bm25s 0.2.14 counts each document's tokens with a Counter and scores it with its own
    small arrays, about 20 µs a document: a quarter of the build of a 100,000-entry base,
    whose phrasings are some 900,000 documents. This computes the same matrix (bm25s'
    vocabulary, IDF and term-frequency functions, a CSC of documents x terms with each
    term's documents in order) from one flat array of token ids.
    """

    def build_index_from_tokens(self, corpus_tokens, show_progress=True, leave_progress=False):
        """(scores, vocabulary) as bm25s' own: the same vocabulary (its get_unique_tokens,
        numbered in that order), each token looked up once in one pass, not per document.
        """
        if self.method in self.methods_requiring_nonoccurrence:
            raise ValueError(f"ArrayBM25 does not score {self.method}")
        vocab = {t: i for i, t in enumerate(bm25s.get_unique_tokens(corpus_tokens, False))}
        ids = np.fromiter(map(vocab.__getitem__, chain.from_iterable(corpus_tokens)), np.int64)
        lengths = np.fromiter(map(len, corpus_tokens), np.int64, len(corpus_tokens))
        return self.scores_of_ids(ids, lengths, len(vocab)), vocab

    def scores_of_ids(self, ids: np.ndarray, lengths: np.ndarray, n_vocab: int) -> dict:
        """bm25s' `scores` (data, indices, indptr, num_docs) from the documents' token ids."""
        n_docs = len(lengths)
        docs = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
        # One key per (term, document): sorted, they are the CSC's order, term by term.
        pairs, tf = np.unique(ids * n_docs + docs, return_counts=True)
        terms, docs = np.divmod(pairs, n_docs)
        df = np.bincount(terms, minlength=n_vocab)
        idf = _build_idf_array(
            dict(enumerate(df.tolist())), n_docs, _select_idf_scorer(self.idf_method), self.dtype
        )
        tfc = _select_tfc_scorer(self.method)(
            tf_array=tf.astype(self.dtype),
            l_d=lengths[docs],
            l_avg=lengths.mean(),
            k1=self.k1,
            b=self.b,
            delta=self.delta,
        )
        # scipy's choice for the indices of the matrix bm25s builds: int32 while they fit.
        index = np.int32 if max(len(pairs), n_docs) <= np.iinfo(np.int32).max else np.int64
        return {
            "data": (idf[terms] * tfc).astype(self.dtype),
            "indices": docs.astype(index),
            "indptr": np.concatenate(([0], np.cumsum(df))).astype(index),
            "num_docs": n_docs,
        }


class FieldIndex:
    """BM25 over one field (questions, keywords, title, answer or bigrams) of every entry."""

    def __init__(self, docs: Sequence[list[str]], k1: float = 1.2, b: float = 0.75) -> None:
        bm25 = ArrayBM25(k1=k1, b=b, method=_METHOD)
        bm25.index([d or [""] for d in docs], show_progress=False)
        self._hold(bm25.vocab_dict, bm25.scores)

    @classmethod
    def of_ids(
        cls, ids: np.ndarray, counts: np.ndarray, words: list[str], k1: float = 1.2, b: float = 0.75
    ) -> FieldIndex:
        """The index of documents given as numbers (analyzer.bigram_ids): `ids` into
        `words`, document after document, `counts` of each. The same index as of the
        documents' words, but for the numbering of its terms; an empty document holds
        the "" token here too (bm25s needs a token, and it counts in the mean length).
        """
        empty = np.flatnonzero(counts == 0)
        if len(empty):
            ids = np.insert(ids, np.cumsum(counts)[empty], len(words))
            counts = np.where(counts == 0, 1, counts)
            words = [*words, ""]
        field = cls.__new__(cls)
        scores = ArrayBM25(k1=k1, b=b, method=_METHOD).scores_of_ids(ids, counts, len(words))
        field._hold({w: i for i, w in enumerate(words)}, scores)
        return field

    def _hold(self, vocab: dict[str, int], scores: dict) -> None:
        self.vocab = vocab
        self.size: int = scores["num_docs"]
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
