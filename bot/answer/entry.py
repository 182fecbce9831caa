"""One knowledge-base entry, as read from a theme file and as exported."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Entry:
    """A question residents ask and the checked answer to it.

    `file` and `line` say where the entry starts, so every message about it can point
    staff at the right place in the file.
    """

    id: str
    theme: str
    title: str
    questions: tuple[str, ...]
    keywords: tuple[str, ...]
    answer: str
    sources: tuple[dict[str, str], ...]
    help: tuple[str, ...]
    reviewed: dt.date | None
    source: str = ""
    featured: bool = False
    file: str = ""
    line: int = 0

    def export(self) -> dict[str, Any]:
        """The entry as plain JSON data, for `legalbot kb export --json`."""
        return {
            "id": self.id,
            "theme": self.theme,
            "title": self.title,
            "questions": list(self.questions),
            "keywords": list(self.keywords),
            "answer": self.answer,
            "sources": [dict(s) for s in self.sources],
            "help": list(self.help),
            "reviewed": self.reviewed.isoformat() if self.reviewed else None,
            "source": self.source,
        }

    def citation(self) -> str:
        """The legal basis in one line, each law named once: 《民法典》第1042条、第1052条；《刑法》."""
        articles: dict[str, list[str]] = {}
        for src in self.sources:
            law = src.get("law", "").strip("《》 ")
            article = src.get("article", "").strip()
            cited = articles.setdefault(law, [])
            if article and article not in cited:
                cited.append(article)
        return "；".join(f"《{law}》{'、'.join(cited)}" for law, cited in articles.items())
