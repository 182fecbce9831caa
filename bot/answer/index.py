"""Ranking entries for a question and saying how sure we are.

Score: BM25 per field, weighted (how residents ask > keywords > title > answer), plus
character bigrams for the words jieba does not know (typos, dialect, names).
Confidence (0..1): how much of the question the best entry explains, IDF-weighted, so
a question about the weather or 医保 that shares one common word with an entry stays low.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .analyzer import Analyzer, Term, bigrams
from .entry import Entry
from .fields import FieldIndex
from .knowledge import Lexicon

FIELD_WEIGHTS = {"questions": 1.0, "keywords": 0.6, "title": 0.5, "answer": 0.15}
BIGRAM_WEIGHT = 0.35
# An unknown word weighs this fraction of a rare known word in the coverage: it may be
# a typo of something we know, or the real subject of a question we cannot answer.
UNKNOWN_WEIGHT = 0.6
OOS_WEIGHT = 2.0
CANDIDATES = 10


# Logistic calibration: P(the best entry is from the right theme) from the features
# below, fitted on a development set of residents' questions (in scope and not, leaving
# out questions copied into the entries). The thresholds of [knowledge] compare against it.
CALIBRATION = {"rel": 7.09, "matched": 0.157, "tgap": 1.43, "oos": -0.92, "n": 0.43}
CALIBRATION_BIAS = -5.83
MAX_TERMS = 10


def confidence(f: dict[str, np.ndarray]) -> np.ndarray:
    """Calibrated 0..1 confidence for each candidate entry.

    rel: BM25 score over the question's total term weight (how much of it is matched,
    and how well); matched: IDF weight of the question's words the entry holds;
    tgap: lead over the best entry of another theme; oos: out-of-scope words;
    n: number of meaningful words (capped), since one shared word says little.
    """
    z = CALIBRATION_BIAS + sum(w * f[name] for name, w in CALIBRATION.items())
    return 1.0 / (1.0 + np.exp(-z))


@dataclass(frozen=True)
class Hit:
    """An entry (by position) with its BM25 score and confidence."""

    doc: int
    score: float
    confidence: float


@dataclass
class Ranking:
    """The best entries for a question, best first."""

    hits: list[Hit] = field(default_factory=list)
    terms: list[Term] = field(default_factory=list)
    out_of_scope: bool = False
    features: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def confidence(self) -> float:
        return self.hits[0].confidence if self.hits else 0.0


class SearchIndex:
    """The fields of every entry indexed for BM25, with the analyzer that made the tokens."""

    def __init__(self, entries: Sequence[Entry], lexicon: Lexicon) -> None:
        keywords = {k for e in entries for k in e.keywords if 2 <= len(k) <= 8}
        self.analyzer = Analyzer(lexicon, sorted(keywords))
        self.lexicon = lexicon
        self.size = len(entries)
        self.themes = np.array([e.theme for e in entries], dtype=object)
        tok = self.analyzer.tokens
        texts = {
            "questions": [" ".join(e.questions) for e in entries],
            "keywords": [" ".join(e.keywords) for e in entries],
            "title": [e.title for e in entries],
        }
        docs = {name: [tok(t) for t in values] for name, values in texts.items()}
        docs["answer"] = [tok(e.answer) for e in entries]
        self.fields = {name: FieldIndex(d) for name, d in docs.items()}
        # Where a term counts as "explained": what residents ask, keywords and title.
        self.presence = FieldIndex(
            [
                q + k + t
                for q, k, t in zip(docs["questions"], docs["keywords"], docs["title"], strict=True)
            ]
        )
        self.grams = FieldIndex(
            [bigrams(" ".join(parts)) for parts in zip(*texts.values(), strict=True)]
        )

    def search(self, text: str, limit: int = CANDIDATES) -> Ranking:
        """The best entries for `text`, best first, with their confidence."""
        terms = self.analyzer.terms(text)
        if not terms or not self.size:
            return Ranking(terms=terms)
        scores = np.zeros(self.size, dtype=np.float32)
        words = list(dict.fromkeys(alt for t in terms for alt in t.alts))
        for name, weight in FIELD_WEIGHTS.items():
            self.fields[name].add_scores(scores, words, weight)
        unknown = [t for t in terms if not any(a in self.presence for a in t.alts)]
        grams = list(dict.fromkeys(bigrams(text, [(t.start, t.end) for t in unknown])))
        self.grams.add_scores(scores, grams, BIGRAM_WEIGHT)
        top = self._top(scores, limit)
        if not len(top):
            return Ranking(terms=terms)
        feats = self.features(terms, unknown, text, top, scores)
        conf = confidence(feats)
        hits = [Hit(int(d), float(scores[d]), float(c)) for d, c in zip(top, conf, strict=True)]
        hits.sort(key=lambda h: -h.confidence)
        return Ranking(hits, terms, bool(feats["oos"][0]), feats)

    @staticmethod
    def _top(scores: np.ndarray, limit: int) -> np.ndarray:
        limit = min(limit, len(scores))
        top = np.argpartition(-scores, limit - 1)[:limit]
        top = top[np.argsort(-scores[top], kind="stable")]
        return top[scores[top] > 0]

    def features(
        self, terms: list[Term], unknown: list[Term], text: str, docs: np.ndarray, scores
    ) -> dict[str, np.ndarray]:
        """What the confidence is computed from, for each candidate entry."""
        covered = np.zeros(len(docs))
        total = 0.0
        oos = 0
        unknown_ids = {id(t) for t in unknown}
        for term in terms:
            if term.word in self.lexicon.out_of_scope:
                oos += 1
                total += OOS_WEIGHT * self.presence.idf("")
                continue
            if id(term) in unknown_ids:
                weight = UNKNOWN_WEIGHT * self.presence.idf("")
                grams = bigrams(text, [(term.start, term.end)])
                if grams:
                    hits = sum(self.grams.contains(g, docs).astype(float) for g in grams)
                    covered += weight * np.asarray(hits) / len(grams)
            else:
                weight = max(self.presence.idf(a) for a in term.alts if a in self.presence)
                found = np.zeros(len(docs), dtype=bool)
                for alt in term.alts:
                    found |= self.presence.contains(alt, docs)
                covered += weight * found
            total += weight
        top = scores[docs].astype(float)
        themes = self.themes[docs]
        other = np.array(
            [
                max((x for x, t in zip(top, themes, strict=True) if t != th), default=0.0)
                for th in themes
            ]
        )
        return {
            "cov": covered / total if total else covered,
            "matched": covered,
            "rel": top / (total or 1.0),
            "tgap": (top - other) / np.maximum(top, 1e-6),
            "oos": np.full(len(docs), float(oos)),
            "n": np.full(len(docs), float(min(len(terms), MAX_TERMS))),
        }
