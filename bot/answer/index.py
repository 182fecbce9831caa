"""Ranking entries for a question and saying how sure we are.

Score: BM25 per field, weighted (how residents ask > keywords > title), plus
the best single phrasing of each entry (a resident who asks almost what another asked
should find that entry, not the one whose many phrasings share a word each), plus
character bigrams for the words jieba does not know (typos, dialect, names).
Confidence: calibration.py, from how much of the question the entry explains.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .analyzer import Analyzer, Term, bigram_ids, bigrams
from .calibration import confidence
from .cutting import PARALLEL_CHARS, cut_texts
from .entry import Entry
from .fields import FieldIndex
from .learnt import NONE, Example, TextModel, bounded
from .lexicon import Lexicon

FIELD_WEIGHTS = {"questions": 1.0, "keywords": 0.6, "title": 0.5}
PHRASE_WEIGHT = 1.0
BIGRAM_WEIGHT = 0.35
# An unknown word weighs this fraction of a rare known word in the coverage: it may be
# a typo of something we know, or the real subject of a question we cannot answer.
UNKNOWN_WEIGHT = 0.6
OOS_WEIGHT = 2.0
CANDIDATES = 10
# Texts of each theme the topic reader learns from, at most (so a large base fits fast).
TOPIC_EXAMPLES = 1500
TOPIC_STRENGTH = 10.0
MAX_TERMS = 10


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
    docs: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))

    @property
    def confidence(self) -> float:
        return self.hits[0].confidence if self.hits else 0.0


class SearchIndex:
    """The fields of every entry indexed for BM25, with the analyzer that made the tokens."""

    def __init__(
        self,
        entries: Sequence[Entry],
        lexicon: Lexicon,
        parallel_above: int = PARALLEL_CHARS,
        examples: Sequence[Example] = (),
    ) -> None:
        keywords = {k for e in entries for k in e.keywords if 2 <= len(k) <= 8}
        self.analyzer = Analyzer(lexicon, sorted(keywords))
        self.lexicon = lexicon
        self.size = len(entries)
        self.themes = np.array([e.theme for e in entries], dtype=object)
        # Cutting text with jieba is nearly all of the build: each phrasing, title and
        # keyword list is cut once (in worker processes for a large base, cutting.py)
        # and the pieces reused by every field below. The answers are not indexed:
        # residents ask in their words, not the answer's, and the development set
        # scored the same without them (fewer wrong answers).
        texts = [q for e in entries for q in e.questions]
        texts += [e.title for e in entries] + [" ".join(e.keywords) for e in entries]
        cut = iter(cut_texts(self.analyzer, texts, parallel_above))
        asked = [[next(cut) for _ in e.questions] for e in entries]
        titles = [next(cut) for _ in entries]
        keyword_docs = [next(cut) for _ in entries]
        docs = {
            "questions": [[w for q in qs for w in q] for qs in asked],
            "keywords": keyword_docs,
            "title": titles,
        }
        self.fields = {name: FieldIndex(d) for name, d in docs.items()}
        # Each phrasing (and the title) on its own; an entry's phrasings are contiguous,
        # so the best one per entry is one np.maximum.reduceat.
        sizes = np.array([len(qs) + 1 for qs in asked], dtype=np.int64)
        self._phrase_starts = np.cumsum(sizes) - sizes
        self.phrases = FieldIndex(
            [p for qs, t in zip(asked, titles, strict=True) for p in (*qs, t)]
        )
        self._phrase_self = np.maximum(self.phrases.self_scores(), 1e-6).astype(np.float32)
        # Where a term counts as "explained": what residents ask, keywords and title.
        self.presence = FieldIndex(
            [q + k + t for q, k, t in zip(docs["questions"], keyword_docs, titles, strict=True)]
        )
        self.grams = FieldIndex.of_ids(
            *bigram_ids([" ".join((*e.questions, " ".join(e.keywords), e.title)) for e in entries])
        )
        # The topic reader: which theme (or none) a question is about, learnt from every
        # entry's words and the examples of content/examples (learnt.py).
        own = [
            Example(e.theme, text)
            for e in entries
            for text in (*e.questions, e.title, " ".join(e.keywords), e.answer)
        ]
        self.topics = TextModel.learn(
            bounded(own, TOPIC_EXAMPLES) + list(examples), self.analyzer.tokens, TOPIC_STRENGTH
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
        phrase, precision = self._best_phrase(words)
        scores += PHRASE_WEIGHT * phrase
        unknown = [t for t in terms if not any(a in self.presence for a in t.alts)]
        grams = list(dict.fromkeys(bigrams(text, [(t.start, t.end) for t in unknown])))
        self.grams.add_scores(scores, grams, BIGRAM_WEIGHT)
        top = self._top(scores, limit)
        if not len(top):
            return Ranking(terms=terms)
        feats = self.features(terms, unknown, text, top, scores, phrase)
        feats.update(self._topic_features(terms, top))
        feats["precision"] = precision[top].astype(float)
        conf = confidence(feats)
        hits = [Hit(int(d), float(scores[d]), float(c)) for d, c in zip(top, conf, strict=True)]
        hits.sort(key=lambda h: -h.confidence)
        return Ranking(hits, terms, bool(feats["oos"][0]), feats, top)

    def matched_words(self, ranking: Ranking) -> list[list[str]]:
        """For each hit of `ranking`, in order, the question's words its entry holds in
        what residents ask, its keywords or its title (the coverage the confidence
        counts), a word met through the synonym map shown as 骗子→诈骗. Words jieba does
        not know, matched by their characters only, are not listed."""
        found = []
        for hit in ranking.hits:
            doc = np.array([hit.doc])
            held: list[str] = []
            for term in ranking.terms:
                alt = next((a for a in term.alts if self.presence.contains(a, doc)[0]), None)
                label = term.word if alt == term.word else f"{term.word}→{alt}"
                if alt is not None and label not in held:
                    held.append(label)
            found.append(held)
        return found

    def _topic_features(self, terms: list[Term], docs: np.ndarray) -> dict[str, np.ndarray]:
        """What the topic reader says of the question, for each candidate's theme:
        P(that theme), whether it is the reader's first choice, and P(none)."""
        if self.topics is None:
            zeros = np.zeros(len(docs))
            return {"topic": zeros, "tagree": zeros, "tnone": zeros}
        probs = self.topics.probabilities_of(alt for t in terms for alt in t.alts)
        first = max(probs, key=probs.__getitem__)
        themes = self.themes[docs]
        return {
            "topic": np.array([probs.get(t, 0.0) for t in themes]),
            "tagree": np.array([float(t == first) for t in themes]),
            "tnone": np.full(len(docs), probs.get(NONE, 0.0)),
        }

    def _best_phrase(self, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per entry: the BM25 score of its phrasing closest to the question, and the
        largest share of one phrasing's own score the question reaches (a phrasing about
        军人 or 老人 only half matches a question that never says so)."""
        scores = np.zeros(self.phrases.size, dtype=np.float32)
        self.phrases.add_scores(scores, words, 1.0)
        best = np.maximum.reduceat(scores, self._phrase_starts)
        precision = np.maximum.reduceat(scores / self._phrase_self, self._phrase_starts)
        return best, precision

    @staticmethod
    def _top(scores: np.ndarray, limit: int) -> np.ndarray:
        limit = min(limit, len(scores))
        top = np.argpartition(-scores, limit - 1)[:limit]
        top = top[np.argsort(-scores[top], kind="stable")]
        return top[scores[top] > 0]

    def _weights(
        self, terms: list[Term], unknown: list[Term], text: str, docs: np.ndarray
    ) -> tuple[np.ndarray, float, int]:
        """(IDF weight of the question each candidate holds, total weight, out-of-scope words)."""
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
        return covered, total, oos

    def features(
        self,
        terms: list[Term],
        unknown: list[Term],
        text: str,
        docs: np.ndarray,
        scores: np.ndarray,
        phrase: np.ndarray,
    ) -> dict[str, np.ndarray]:
        """What the confidence is computed from, for each candidate entry (calibration.py)."""
        covered, total, oos = self._weights(terms, unknown, text, docs)
        top = scores[docs].astype(float)
        themes = self.themes[docs]
        same = themes[:, None] == themes[None, :]
        other = np.where(same, 0.0, top[None, :]).max(axis=1)
        norm = total or 1.0
        return {
            "rel": top / norm,
            "phrase": phrase[docs].astype(float) / norm,
            "cov": covered / norm,
            "tgap": (top - other) / np.maximum(top, 1e-6),
            # The question's own weight stands in the denominator for what no candidate
            # explains: one weak candidate alone is not a theme holding all the evidence.
            "share": (same * top[None, :]).sum(axis=1) / (top.sum() + norm),
            "oos": np.full(len(docs), float(min(oos, 2))),
            "single": np.full(len(docs), float(len({t.word for t in terms}) == 1)),
            "matched": covered,
            "n": np.full(len(docs), float(min(len(terms), MAX_TERMS))),
            "raw": top,
            "rphrase": phrase[docs].astype(float),
        }
