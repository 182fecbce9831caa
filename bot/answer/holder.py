"""The live knowledge base: reloaded when its files change, swapped whole, never half-built.

A request reads `current()` once and keeps that base for its whole answer; a reload
builds the new base and its index beside the old one (in a thread, so no request
waits for jieba), then swaps one reference. A broken edit leaves the old base in place.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from ..errors import KnowledgeBaseError
from .knowledge import KnowledgeBase, content_files
from .loader import find_taxonomy, load_knowledge_base

log = logging.getLogger(__name__)

Stamp = tuple[tuple[str, int, int], ...]


class KnowledgeBaseHolder:
    """Holds the current KnowledgeBase (index built) and replaces it when content/ changes."""

    def __init__(
        self,
        content_dir: Path,
        town: Mapping[str, str],
        check_seconds: float = 5.0,
        taxonomy_path: Path | None = None,
    ) -> None:
        self.content_dir = Path(content_dir)
        self.town = dict(town)
        self.check_seconds = check_seconds
        self.taxonomy_path = find_taxonomy(self.content_dir, taxonomy_path)
        self.problems: list[str] = []
        self._reload_lock = threading.Lock()
        self._stamp = self._files_stamp()
        self._kb = self._build()
        self._next_check = time.monotonic() + check_seconds
        self._worker: threading.Thread | None = None

    def current(self) -> KnowledgeBase:
        """The knowledge base to answer from; starts a reload in the background if files changed."""
        if self.check_seconds > 0 and time.monotonic() >= self._next_check:
            self._next_check = time.monotonic() + self.check_seconds
            if self._files_stamp() != self._stamp:
                self.reload_soon()
        return self._kb

    def reload_soon(self) -> None:
        """Start a reload in the background now, unless one is under way (the console
        calls it after publishing, so its own worker need not wait for the next check)."""
        if not self._reload_lock.locked():
            self._worker = threading.Thread(target=self.reload, name="kb-reload", daemon=True)
            self._worker.start()

    def reload(self) -> tuple[bool, list[str]]:
        """Rebuild now: (True, []) when the new base is live, (False, problems) when kept the old."""
        with self._reload_lock:
            stamp = self._files_stamp()
            try:
                kb = self._build()
            except KnowledgeBaseError as exc:
                self._stamp, self.problems = stamp, exc.problems
                log.warning("knowledge base not reloaded, keeping the previous one: %s", exc)
                for problem in exc.problems:
                    log.warning("%s", problem)
                return False, exc.problems
            self._kb, self._stamp, self.problems = kb, stamp, []
            log.info("knowledge base reloaded: %d entries", len(kb.entries))
            return True, []

    def wait(self, timeout: float | None = None) -> None:
        """Wait for a background reload to finish (tests, the reload command)."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)

    def _build(self) -> KnowledgeBase:
        kb = load_knowledge_base(self.content_dir, self.town, self.taxonomy_path)
        kb.index  # noqa: B018 - build the index now, not in the first request
        kb.triage.model  # noqa: B018 - and fit the danger reader
        # The base lives until the next reload: keep its hundred thousand objects (and
        # what was loaded before it) out of the cyclic collector's full passes, which
        # otherwise stop every request thread for tens of milliseconds now and then.
        # Refcounting still frees a replaced base.
        gc.freeze()
        return kb

    def _files_stamp(self) -> Stamp:
        """Name, mtime and size of every content file: a change in any means reload."""
        stamp = []
        for path in content_files(self.content_dir) + [self.taxonomy_path]:
            try:
                info = path.stat()
            except OSError:
                continue
            stamp.append((str(path), info.st_mtime_ns, info.st_size))
        return tuple(stamp)
