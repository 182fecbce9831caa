"""Figures for the answering engine: `ask` latency, index build time and memory.

    python bench/bench_ask.py [--synthetic 100000] [--asks 2000]

Prints, for the real knowledge base (content/) and for a synthetic one of N entries
made from the real entries' words: build time, memory the index holds, and the median
and 99th percentile of `Answerer.ask` in-process. Targets (issue): under 1 ms median on
the real base, under 20 ms at 100,000 entries, build under 60 s. Not a test: it prints.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.answer import Answerer, Entry, KnowledgeBase, load_knowledge_base  # noqa: E402
from bot.answer.evaluate import read_questions  # noqa: E402
from bot.config import DEFAULTS, KnowledgeSettings  # noqa: E402
from bot.state import MemoryState  # noqa: E402

TOWN = DEFAULTS["town"]  # the shipped town facts


def _rss_mib() -> float:
    """Resident memory of this process now (Linux /proc; 0 elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def build(make) -> tuple[KnowledgeBase, float, float]:
    """(base with its index built, seconds, MiB of resident memory the build added).

    Resident memory rather than tracemalloc: tracing every allocation made the build of
    the large base several times slower than it really is.
    """
    gc.collect()
    before = _rss_mib()
    start = time.perf_counter()
    kb = make()
    kb.index  # noqa: B018 - the build is what is measured
    kb.triage.model  # noqa: B018 - the danger reader with it, as the serving holder does
    seconds = time.perf_counter() - start
    gc.collect()
    return kb, seconds, _rss_mib() - before


def latency(kb: KnowledgeBase, questions: list[str], asks: int) -> tuple[float, float, float]:
    """(median, p99 of ask() in ms with every question new to the base, median when repeated).

    The base remembers its recent rankings (KnowledgeBase.search), so the first figures
    are taken with that memory emptied before every ask: the search itself.
    """
    bot = Answerer(kb, MemoryState(), KnowledgeSettings(ROOT / "content", 0.55, 0.3, 30, 5))
    for question in questions[:20]:  # warm caches (jieba's, numpy's)
        bot.ask(question)
    fresh, repeated = [], []
    for i in range(asks):
        question = questions[i % len(questions)]
        kb.forget_rankings()
        start = time.perf_counter()
        bot.ask(question)
        fresh.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        bot.ask(question)
        repeated.append((time.perf_counter() - start) * 1000)
    fresh.sort()
    return statistics.median(fresh), fresh[int(len(fresh) * 0.99) - 1], statistics.median(repeated)


def synthetic(real: KnowledgeBase, size: int, seed: int = 7) -> KnowledgeBase:
    """`size` entries whose fields are real entries' words reshuffled, at real lengths."""
    rng = random.Random(seed)
    words = [w for e in real.entries for q in e.questions for w in real.index.analyzer.tokens(q)]
    answer_words = [w for e in real.entries for w in real.index.analyzer.tokens(e.answer)]
    themes = list(real.themes)
    entries = []
    for n in range(size):
        model = real.entries[n % len(real.entries)]
        questions = tuple(
            "".join(rng.choices(words, k=max(3, len(q) // 2))) for q in model.questions
        )
        entries.append(
            Entry(
                id=f"{themes[n % len(themes)]}-synthetic-{n}",
                theme=themes[n % len(themes)],
                title="".join(rng.choices(words, k=8)),
                questions=questions,
                keywords=tuple(rng.choices(words, k=len(model.keywords))),
                answer="".join(rng.choices(answer_words, k=len(model.answer) // 2)),
                sources=model.sources,
                help=model.help,
                reviewed=dt.date(2026, 11, 25),
            )
        )
    return KnowledgeBase(entries, real.themes, real.help_texts, real.lexicon, real.town)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, default=100_000, help="entries (0: skip)")
    parser.add_argument("--asks", type=int, default=2000)
    args = parser.parse_args()
    dev = ROOT / "tests" / "data" / "dev_questions.tsv"
    real, seconds, mib = build(lambda: load_knowledge_base(ROOT / "content", TOWN))
    questions = [q for _, q in read_questions(dev)] if dev.exists() else []
    questions = questions or [q for e in real.entries for q in e.questions]
    median, p99, again = latency(real, questions, args.asks)
    print(f"real base: {len(real.entries)} entries")
    print(f"  build (load + index): {seconds:.2f} s, memory added: {mib:.1f} MiB")
    print(
        f"  ask: median {median:.3f} ms, p99 {p99:.3f} ms ({args.asks} asks); "
        f"asked again: median {again:.3f} ms"
    )
    if args.synthetic:
        made = synthetic(real, args.synthetic)
        big, seconds, mib = build(lambda: made)
        median, p99, again = latency(big, questions, args.asks)
        print(f"synthetic base: {len(big.entries)} entries")
        print(f"  build (index): {seconds:.2f} s, memory added: {mib:.1f} MiB")
        print(
            f"  ask: median {median:.3f} ms, p99 {p99:.3f} ms ({args.asks} asks); "
            f"asked again: median {again:.3f} ms"
        )


if __name__ == "__main__":
    main()
