"""A faster index build finds exactly what the slow one found: same tokens, same BM25 matrices."""

from __future__ import annotations

import logging
from pathlib import Path

import bm25s
import numpy as np
import pytest

from bot.answer import KnowledgeBase, load_knowledge_base
from bot.answer.analyzer import bigrams
from bot.answer.cutting import cut_texts
from bot.answer.evaluate import read_questions
from bot.answer.fields import FieldIndex
from bot.answer.index import SearchIndex

ROOT = Path(__file__).parents[1]
DEV = ROOT / "tests" / "data" / "dev_questions.tsv"
TOWN = {
    "name": "甘河滩镇",
    "mediation": "甘河滩镇人民调解委员会",
    "police_mediation": "派出所调解室",
    "legal_aid": "区法律援助中心",
    "justice_office": "镇司法所",
}


@pytest.fixture(scope="module")
def real_kb() -> KnowledgeBase:
    return load_knowledge_base(ROOT / "content", TOWN)


@pytest.fixture(scope="module")
def dev_questions() -> list[str]:
    return [q for _, q in read_questions(DEV)]


def assert_same_bm25(ours: FieldIndex, docs: list[list[str]]) -> None:
    """`ours` holds the vocabulary and matrix stock bm25s builds from the same documents."""
    stock = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    stock.index([d or [""] for d in docs], show_progress=False)
    assert ours.vocab == stock.vocab_dict
    mine, theirs = ours._bm25.scores, stock.scores
    assert mine["num_docs"] == theirs["num_docs"] == len(docs)
    for key in ("indices", "indptr"):
        assert mine[key].dtype == theirs[key].dtype, key
        np.testing.assert_array_equal(mine[key], theirs[key], err_msg=key)
    assert mine["data"].dtype == theirs["data"].dtype == np.float32
    np.testing.assert_allclose(mine["data"], theirs["data"], rtol=1e-6, atol=0)


def assert_same_index(a: SearchIndex, b: SearchIndex) -> None:
    fields = {**a.fields, "phrases": a.phrases, "presence": a.presence, "grams": a.grams}
    others = {**b.fields, "phrases": b.phrases, "presence": b.presence, "grams": b.grams}
    for name, field in fields.items():
        other = others[name]
        assert field.vocab == other.vocab, name
        for key in ("data", "indices", "indptr"):
            np.testing.assert_array_equal(
                field._bm25.scores[key], other._bm25.scores[key], err_msg=f"{name} {key}"
            )


@pytest.mark.parametrize("seed", range(8))
def test_bm25_matrix_is_bm25s_own_on_random_corpora(seed):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(int(rng.integers(1, 400)))]
    docs = [
        [words[i] for i in rng.integers(0, len(words), int(rng.integers(0, 15)))]
        for _ in range(int(rng.integers(1, 3000)))
    ]
    assert_same_bm25(FieldIndex(docs), docs)


def test_bm25_matrix_is_bm25s_own_on_the_real_base(real_kb):
    tok = real_kb.index.analyzer.tokens
    entries = real_kb.entries
    corpora = {
        "phrasings": [tok(q) for e in entries for q in (*e.questions, e.title)],
        "keywords": [tok(" ".join(e.keywords)) for e in entries],
        "bigrams": [bigrams(" ".join((*e.questions, e.title))) for e in entries],
    }
    for docs in corpora.values():
        assert_same_bm25(FieldIndex(docs), docs)


def test_each_terms_documents_are_in_order(real_kb):
    # FieldIndex.contains finds a document in a term's list by binary search.
    for field in (real_kb.index.phrases, real_kb.index.presence, real_kb.index.grams):
        for start, end in zip(field._ptr[:-1], field._ptr[1:], strict=True):
            assert (np.diff(field._docs[start:end]) > 0).all()


def test_tokens_are_the_terms_and_their_synonyms(real_kb, dev_questions):
    analyzer = real_kb.index.analyzer
    texts = dev_questions + [q for e in real_kb.entries for q in (*e.questions, e.title)]
    for text in texts * 2:  # the second time from the words already met
        assert analyzer.tokens(text) == [a for t in analyzer.terms(text) for a in t.alts], text


def test_a_large_base_is_cut_in_workers_into_the_same_index(real_kb, caplog):
    here = SearchIndex(real_kb.entries, real_kb.lexicon)  # the real base: in-process
    with caplog.at_level(logging.WARNING, logger="bot.answer.cutting"):
        workers = SearchIndex(real_kb.entries, real_kb.lexicon, parallel_above=0)
    assert not caplog.records
    assert_same_index(here, workers)


def test_workers_keep_the_texts_in_order(real_kb, dev_questions):
    analyzer = real_kb.index.analyzer
    texts = dev_questions * 20  # chunks for two workers and, while they start, this process
    assert cut_texts(analyzer, texts, 0, workers=2) == [analyzer.tokens(t) for t in texts]


def test_workers_that_cannot_start_cost_time_not_the_index(real_kb, monkeypatch, caplog):
    here = SearchIndex(real_kb.entries, real_kb.lexicon)
    # A spawned worker is a fresh interpreter: without its standard library it dies at start.
    monkeypatch.setenv("PYTHONHOME", "/nonexistent")
    with caplog.at_level(logging.WARNING, logger="bot.answer.cutting"):
        alone = SearchIndex(real_kb.entries, real_kb.lexicon, parallel_above=0)
    assert [r.getMessage()[:50] for r in caplog.records] == [
        "cutting the knowledge base in one process, workers"
    ]
    assert_same_index(here, alone)
