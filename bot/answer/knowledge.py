"""The loaded knowledge base: entries, themes, help lines, and the reply rendered from an entry."""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .areas import Areas
from .checks import MAX_REPLY_BYTES, fit_bytes
from .entry import Entry
from .facts import Facts
from .learnt import Example
from .lexicon import Lexicon
from .phrasings import Phrasings
from .triage import Danger, Triage, compact

if TYPE_CHECKING:
    from .index import Ranking, SearchIndex

# The data files of content/ beside the theme files and the dictionaries.
DATA_FILES = (
    "help.toml",
    "triage.toml",
    "triage_examples.tsv",
    "days.toml",
    "areas.toml",
    "laws.toml",
)
# Rankings remembered per knowledge base (a few KiB each).
SEARCH_CACHE = 4096


class KnowledgeBase:
    """Every entry of content/themes, in theme order, with what is needed to answer from it.

    The search index is built on first use (jieba's dictionary takes a second to load),
    once, under a lock; KnowledgeBaseHolder builds it before a new base goes live.
    """

    def __init__(
        self,
        entries: list[Entry],
        themes: Mapping[str, str],
        help_texts: Mapping[str, str],
        lexicon: Lexicon,
        town: Mapping[str, str] | None = None,
        *,
        triage: Triage | None = None,
        facts: Facts | None = None,
        areas: Areas | None = None,
        topic_examples: Sequence[Example] = (),
    ) -> None:
        self.entries = entries
        self.themes = dict(themes)
        self.help_texts = dict(help_texts)
        self.lexicon = lexicon
        self.town = dict(town or {})
        self.triage = triage or Triage.empty()
        self.facts = facts or Facts([], [])
        self.areas = areas or Areas([])
        self.topic_examples = list(topic_examples)
        self.phrasings = Phrasings(entries, lexicon.synonyms)
        self._held: dict[str, str] = {}
        # Entries reviewed before their law's latest version (content/laws.toml).
        self.notices: list[str] = []
        self._by_id = {e.id: e for e in entries}
        self._by_theme: dict[str, list[Entry]] = {slug: [] for slug in self.themes}
        for entry in entries:
            self._by_theme.setdefault(entry.theme, []).append(entry)
        self._index: SearchIndex | None = None
        self._search = None
        self._danger = None
        self._rendered: dict[str, str] = {}
        self._lock = threading.Lock()

    def by_id(self, entry_id: str) -> Entry | None:
        return self._by_id.get(entry_id)

    def by_phrasing(self, text: str) -> Entry | None:
        """The entry one of whose phrasings (or title) `text` is, once normalised
        (punctuation, spaces, particles, the synonym map: phrasings.py); else None."""
        doc = self.phrasings.find(text)
        return None if doc is None else self.entries[doc]

    def holds(self, entry: Entry, word: str) -> bool:
        """Whether the entry's own text (phrasings, keywords, title, answer) has `word`."""
        held = self._held.get(entry.id)
        if held is None:
            parts = (*entry.questions, *entry.keywords, entry.title, entry.answer)
            held = self._held[entry.id] = compact("\n".join(parts))
        return word in held

    def by_theme(self, slug: str) -> list[Entry]:
        """The theme's entries in file order (the numbering of the theme list)."""
        return self._by_theme.get(slug, [])

    @property
    def index(self) -> SearchIndex:
        """The search index over the entries, built once on first use."""
        if self._index is None:
            with self._lock:
                if self._index is None:
                    from .index import SearchIndex

                    self._index = SearchIndex(
                        self.entries, self.lexicon, examples=self.topic_examples
                    )
        return self._index

    def search(self, text: str) -> Ranking:
        """The index's ranking for `text`, remembered for the most recent questions.

        Residents repeat each other: the phrasings a campaign or the menu suggests, the
        question of the week at the market. A ranking depends on the text and this base
        only (never on who asks), so it is kept with the base and dies with it on reload.
        """
        if self._search is None:
            self._search = functools.lru_cache(maxsize=SEARCH_CACHE)(self.index.search)
        return self._search(text)

    def candidates(self, text: str) -> list[tuple[Entry, float, list[str]]]:
        """The ranking's entries for `text`, best first, each with its confidence and the
        question's words it holds: why the search would answer as it does (the console's
        "try a question"). Reads the remembered ranking; records nothing."""
        ranking = self.search(text)
        words = self.index.matched_words(ranking)
        return [
            (self.entries[hit.doc], hit.confidence, held)
            for hit, held in zip(ranking.hits, words, strict=True)
        ]

    def danger(self, message: str) -> Danger | None:
        """The triage's verdict on `message`, remembered like the rankings (it depends on
        the text and this base only)."""
        if self._danger is None:
            self._danger = functools.lru_cache(maxsize=SEARCH_CACHE)(self.triage.check)
        return self._danger(message)

    def forget_rankings(self) -> None:
        """Drop the remembered rankings and verdicts (benchmarks measure the work itself)."""
        self._search = None
        self._danger = None

    def render(self, entry: Entry) -> str:
        """The full reply for an entry: title, answer, legal basis, where to get help.

        WeChat refuses passive text replies over 2,048 bytes; `kb validate` reports
        entries that would be cut, and help lines are dropped here before anything else.
        Rendered once per entry: the base is read-only until it is replaced.
        """
        found = self._rendered.get(entry.id)
        if found is None:
            found = self._rendered[entry.id] = self._render(entry)
        return found

    def _render(self, entry: Entry) -> str:
        helps = [self.help_texts[k] for k in entry.help if k in self.help_texts]
        text = self._compose(entry, helps)
        while helps and len(text.encode("utf-8")) > MAX_REPLY_BYTES:
            helps.pop()
            text = self._compose(entry, helps)
        return fit_bytes(text)

    def full_size(self, entry: Entry) -> int:
        """Bytes of the reply with nothing dropped, for the length check of `kb validate`."""
        helps = [self.help_texts[k] for k in entry.help if k in self.help_texts]
        return len(self._compose(entry, helps).encode("utf-8"))

    @staticmethod
    def _compose(entry: Entry, helps: list[str]) -> str:
        lines = [f"【{entry.title}】", entry.answer]
        if entry.sources:
            lines.append(f"依据：{entry.citation()}")
        if helps:
            lines += ["求助："] + [f"· {h}" for h in helps]
        return "\n".join(lines)

    def fallback_help(self) -> list[str]:
        """Help lines of the honest fallback: the legal hotline and the mediation committee."""
        return [self.help_texts[k] for k in ("12348", "mediation") if k in self.help_texts]


def content_files(content_dir: Path) -> list[Path]:
    """Every file whose change means the knowledge base must be reloaded."""
    files = [content_dir / name for name in DATA_FILES]
    files += sorted((content_dir / "examples").glob("*.tsv"))
    files += sorted((content_dir / "themes").glob("*.toml"))
    files += [content_dir / "dict" / n for n in ("userdict.txt", "synonyms.toml", "stopwords.txt")]
    files.append(content_dir / ".reload")  # touched by `legalbot kb reload`
    return files
