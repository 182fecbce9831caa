"""The search dictionaries of content/dict/, as loaded: data staff edit, never code."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Lexicon:
    """User words for jieba, synonyms (how people talk -> how the law talks), stop words,
    and the words that mark a question as outside the knowledge base."""

    userwords: tuple[tuple[str, int | None], ...] = ()
    synonyms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    stopwords: frozenset[str] = frozenset()
    out_of_scope: frozenset[str] = frozenset()
