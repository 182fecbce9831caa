"""A question that IS one of an entry's phrasings is answered from that entry.

Staff fix a miss by adding the resident's own wording to an entry; that wording must then
be answered from it, whatever the ranking thinks. Two wordings are the same phrasing when
they differ only in spaces, punctuation, full-width characters, particles (的, 了, 吗 …)
and words the synonym map of content/dict makes one (老公 and 配偶). No cutting: the
comparison is on characters, so jieba's choices cannot make two equal wordings differ.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from .entry import Entry
from .triage import compact

_PARTICLES = re.compile("[的了吗呢啊呀吧嘛哦噢么]")


class Phrasings:
    """Every entry's phrasings and title, by their normalised form."""

    def __init__(self, entries: Sequence[Entry], synonyms: Mapping[str, tuple[str, ...]]) -> None:
        canonical = {
            compact(word): compact(targets[0])
            for word, targets in synonyms.items()
            if targets and compact(word)
        }
        spoken = sorted(canonical, key=len, reverse=True)
        self._synonym = re.compile("|".join(map(re.escape, spoken))) if spoken else None
        self._canonical = canonical
        self.by_key: dict[str, int] = {}
        # (phrasing, first entry, second entry): a phrasing two entries share answers only
        # the first; `kb validate` reports it.
        self.shared: list[tuple[str, int, int]] = []
        for doc, entry in enumerate(entries):
            for phrasing in (*entry.questions, entry.title):
                key = self.key(phrasing)
                first = self.by_key.setdefault(key, doc) if key else doc
                if first != doc:
                    self.shared.append((phrasing, first, doc))

    def key(self, text: str) -> str:
        """The normalised form of a wording."""
        bare = _PARTICLES.sub("", compact(text))
        if self._synonym is None:
            return bare
        return self._synonym.sub(lambda m: self._canonical[m.group(0)], bare)

    def find(self, text: str) -> int | None:
        """The entry (by position) `text` is a phrasing of, if any."""
        key = self.key(text)
        return self.by_key.get(key) if key else None
