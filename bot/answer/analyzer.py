"""Turning residents' Chinese into search terms: jieba with our dictionary, stop words, synonyms.

The same analysis runs on the entries and on the question, so a colloquial word in
either (骗子, 老公, 欠工资) meets the law's word (诈骗, 配偶, 拖欠工资) in the index.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import jieba
import numpy as np

from .lexicon import Lexicon

_CJK = re.compile(r"[\u3400-\u9fff]")
_MEANINGFUL = re.compile(r"[\u3400-\u9fffA-Za-z0-9]")
# A word jieba has to keep whole for search; below this frequency it may still split it.
_MIN_WORD_FREQ = 2000


@dataclass(frozen=True)
class Term:
    """One meaningful word of a text and the law terms it stands for (itself first)."""

    word: str
    alts: tuple[str, ...]
    start: int
    end: int


@functools.cache
def _base_dictionary() -> tuple[dict[str, int], int]:
    """jieba's own dictionary, loaded once per process (about a second) on first use.

    Every Analyzer copies it, so a reload costs a dictionary copy, not a second load.
    """
    logging.getLogger("jieba").setLevel(logging.WARNING)
    base = jieba.Tokenizer()
    base.initialize()
    return base.FREQ, base.total


def _new_tokenizer() -> jieba.Tokenizer:
    """A jieba tokenizer of our own, never jieba's global one, so words we add stay ours."""
    freq, total = _base_dictionary()
    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ, tokenizer.total = dict(freq), total
    tokenizer.initialized = True
    return tokenizer


def normalize(text: str) -> str:
    """Full-width digits and letters to ASCII, lower case: ２ and 2, ＡＢ and ab are one."""
    return unicodedata.normalize("NFKC", text).lower().strip()


class Analyzer:
    """A jieba tokenizer of our own (never jieba's global one) and the dictionaries of content/dict.

    jieba's `set_stop_words` only affects keyword extraction, not `cut`, so stop words
    are filtered here after cutting.
    """

    def __init__(self, lexicon: Lexicon, extra_words: Iterable[str] = ()) -> None:
        # Kept so that a worker process can build the same analyzer (cutting.py).
        self.lexicon = lexicon
        self.extra_words = tuple(extra_words)
        self._tk = _new_tokenizer()
        self._stop = lexicon.stopwords
        for word, freq in lexicon.userwords:
            self._add(word, freq)
        for word in list(lexicon.synonyms) + [t for ts in lexicon.synonyms.values() for t in ts]:
            self._add(word, None)
        for word in list(self.extra_words) + sorted(lexicon.out_of_scope):
            self._add(normalize(word), None)
        self._synonyms = {w: self._expand(targets) for w, targets in lexicon.synonyms.items()}
        # What each word jieba cuts stands for in the index, filled by tokens().
        self._word_tokens: dict[str, tuple[str, ...]] = {}

    def _add(self, word: str, freq: int | None) -> None:
        """Teach jieba a word, frequent enough that it is cut whole in a sentence."""
        if len(word) < 2 or word in self._stop:
            return
        if freq is None:
            freq = max(_MIN_WORD_FREQ, self._tk.suggest_freq(word, False))
        self._tk.add_word(word, freq)

    def _expand(self, targets: tuple[str, ...]) -> tuple[str, ...]:
        """The law terms as the index has them (a two-word target becomes two terms)."""
        words: list[str] = []
        for target in targets:
            for word in self._cut(normalize(target)):
                if word not in words:
                    words.append(word)
        return tuple(words)

    def _cut(self, text: str) -> list[str]:
        return [w for w in self._tk.cut(text) if _MEANINGFUL.search(w) and w not in self._stop]

    def _alts(self, word: str) -> tuple[str, ...]:
        """A cut word and the law terms it stands for (itself first); () for a stop word."""
        if not _MEANINGFUL.search(word) or word in self._stop:
            return ()
        return (word,) + tuple(t for t in self._synonyms.get(word, ()) if t != word)

    def terms(self, text: str) -> list[Term]:
        """The meaningful words of `text`, each with its synonyms, and where it stands."""
        text = normalize(text)
        found, pos = [], 0
        for word in self._tk.cut(text):
            start, pos = pos, pos + len(word)
            alts = self._alts(word)
            if alts:
                found.append(Term(word, alts, start, pos))
        return found

    def tokens(self, text: str) -> list[str]:
        """Index tokens of `text`: every word and every law term it stands for.

        The alts of terms(), without a Term per word: the index build cuts about a
        million texts, and the same few thousand words recur in all of them.
        """
        known = self._word_tokens
        found: list[str] = []
        for word in self._tk.cut(normalize(text)):
            alts = known.get(word)
            if alts is None:
                alts = known[word] = self._alts(word)
            found.extend(alts)
        return found


def bigrams(text: str, spans: Iterable[tuple[int, int]]) -> list[str]:
    """The character bigrams touching `spans` (character ranges of the unknown words) in
    the Chinese runs of `text`: a net for words jieba does not know."""
    text = normalize(text)
    keep = set()
    for start, end in spans:
        keep.update(range(max(0, start - 1), end))
    return [
        text[i : i + 2]
        for i in sorted(keep)
        if i + 1 < len(text) and _CJK.match(text[i]) and _CJK.match(text[i + 1])
    ]


def bigram_ids(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Every bigram of the Chinese runs of every text, as numbers: (the id of each, text
    after text; how many each text has; the bigram of each id).

    The index build's case, every entry's text at once: a string for each pair of
    characters, hashed and looked up again by the index, was the slowest part of the
    build of a 100,000-entry base after jieba. Chinese characters (U+3400-U+9FFF) are
    below 0x10000, so a pair is one 32-bit number.
    """
    texts = [normalize(t) for t in texts]
    # One array of code points; "\n" is not Chinese, so no pair spans two texts.
    points = np.frombuffer("\n".join(texts).encode("utf-32-le"), dtype=np.uint32)
    chinese = (points >= 0x3400) & (points <= 0x9FFF)
    at = np.flatnonzero(chinese[:-1] & chinese[1:])
    pairs, ids = np.unique(points[at] << 16 | points[at + 1], return_inverse=True)
    ends = np.cumsum(np.fromiter(map(len, texts), np.int64, len(texts)) + 1)
    counts = np.bincount(np.searchsorted(ends, at, side="right"), minlength=len(texts))
    return ids, counts, [chr(p >> 16) + chr(p & 0xFFFF) for p in pairs.tolist()]
