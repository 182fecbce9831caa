"""Cutting the texts of a large base in worker processes, each with its own jieba.

jieba's cut is pure Python (about 130,000 characters a second on one core) and was
nearly all of the index build of a 100,000-entry base. The real base (a few tens of
thousands of characters) is cut in-process: starting workers costs more than it saves.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from .analyzer import Analyzer
from .lexicon import Lexicon

log = logging.getLogger(__name__)

# Characters to cut above which worker processes pay for their start (one to two
# seconds each: imports and jieba's dictionary). The real base has about 35,000.
PARALLEL_CHARS = 200_000
# Worker processes besides this one, which cuts too. Each holds its own jieba
# dictionary: about 140 MiB once started, some 400 MiB at most on a 100,000-entry base.
MAX_WORKERS = 7
# Texts per task (a tenth of a second or so): small enough that the last tasks finish
# together, large enough that sending them costs little.
CHUNK = 1000
# Tasks waiting for each worker, so that none is idle while this process cuts a chunk.
QUEUED = 2

# The analyzer of a worker process, built once by _start_worker.
_worker_analyzer: Analyzer | None = None


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity, where the system says)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def cut_texts(
    analyzer: Analyzer,
    texts: Sequence[str],
    parallel_above: int = PARALLEL_CHARS,
    workers: int | None = None,
) -> list[list[str]]:
    """`analyzer.tokens` of every text, in order; in worker processes for many texts.

    One worker per usable CPU but one: this process cuts as well (on 2 CPUs, two
    workers and this process were slower than one worker and this process). A pool
    that cannot start (no processes allowed, a broken interpreter) costs time, never
    the build: the texts are then cut here.
    """
    if workers is None:
        workers = min(usable_cpus() - 1, MAX_WORKERS)
    if workers < 1 or sum(map(len, texts)) <= parallel_above:
        return [analyzer.tokens(t) for t in texts]
    try:
        return _cut_in_pool(analyzer, texts, workers)
    except (OSError, BrokenProcessPool) as exc:
        log.warning("cutting the knowledge base in one process, workers failed: %r", exc)
        return [analyzer.tokens(t) for t in texts]


def _cut_in_pool(analyzer: Analyzer, texts: Sequence[str], workers: int) -> list[list[str]]:
    """Workers cut the chunks from the first on, a few queued each; this process cuts
    from the last back whenever they have enough, so no core waits (workers take a
    second or two to start, this process none).

    Spawned, not forked: the server reloads the base in a thread, and a forked child
    of a threaded process may inherit a lock another thread held. A spawned worker
    imports the parent's main script, so a script that builds a large base must keep
    its code under `if __name__ == "__main__"` (otherwise its workers fail, and the
    texts are cut here). Nothing is ever cancelled: when a worker dies, Python 3.11's
    pool stops on a cancelled task and the process hangs at exit (CPython gh-107219).
    """
    chunks = [texts[i : i + CHUNK] for i in range(0, len(texts), CHUNK)]
    with ProcessPoolExecutor(
        workers,
        multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(analyzer.lexicon, analyzer.extra_words),
    ) as pool:
        sent: list[Future[list[list[str]]]] = []
        here: list[list[list[str]]] = []  # the last chunks, last first
        while len(sent) + len(here) < len(chunks):
            if sum(not f.done() for f in sent[-QUEUED * workers :]) < QUEUED * workers:
                sent.append(pool.submit(_cut_chunk, chunks[len(sent)]))
            else:
                here.append([analyzer.tokens(t) for t in chunks[-1 - len(here)]])
        return [tokens for part in (*(f.result() for f in sent), *here[::-1]) for tokens in part]


def _start_worker(lexicon: Lexicon, extra_words: Iterable[str]) -> None:
    """Build the worker's analyzer: the same dictionaries give the same cuts."""
    global _worker_analyzer
    _worker_analyzer = Analyzer(lexicon, extra_words)


def _cut_chunk(texts: Sequence[str]) -> list[list[str]]:
    return [_worker_analyzer.tokens(t) for t in texts]
