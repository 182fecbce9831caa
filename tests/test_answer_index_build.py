"""A faster index build finds exactly what the slow one found: same tokens, same BM25 matrices."""

from __future__ import annotations

import logging
import re

import bm25s
import numpy as np
import pytest

from bot.answer import KnowledgeBase, load_knowledge_base
from bot.answer.analyzer import bigram_ids, bigrams, normalize
from bot.answer.cutting import cut_texts
from bot.answer.evaluate import read_questions
from bot.answer.fields import FieldIndex
from bot.answer.index import SearchIndex
from tests.conftest import ROOT, TOWN

DEV = ROOT / "tests" / "data" / "dev_questions.tsv"


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
    theirs = stock.scores
    assert ours.size == theirs["num_docs"] == len(docs)
    for mine, key in ((ours._docs, "indices"), (ours._ptr, "indptr")):
        assert mine.dtype == theirs[key].dtype, key
        np.testing.assert_array_equal(mine, theirs[key], err_msg=key)
    assert ours._data.dtype == theirs["data"].dtype == np.float32
    np.testing.assert_allclose(ours._data, theirs["data"], rtol=1e-6, atol=0)


def columns(field: FieldIndex) -> dict[str, tuple[list[int], list[float]]]:
    """Each term's documents and scores, whatever number the term has."""
    ptr = field._ptr
    return {
        term: (field._docs[ptr[i] : ptr[i + 1]].tolist(), field._data[ptr[i] : ptr[i + 1]].tolist())
        for term, i in field.vocab.items()
        if i < len(ptr) - 1  # bm25s numbers "" without a column when no document is empty
    }


def assert_same_index(a: SearchIndex, b: SearchIndex) -> None:
    fields = {**a.fields, "phrases": a.phrases, "presence": a.presence, "grams": a.grams}
    others = {**b.fields, "phrases": b.phrases, "presence": b.presence, "grams": b.grams}
    for name, field in fields.items():
        other = others[name]
        assert field.vocab == other.vocab, name
        for key in ("_data", "_docs", "_ptr"):
            np.testing.assert_array_equal(
                getattr(field, key), getattr(other, key), err_msg=f"{name} {key}"
            )


def all_bigrams(text: str) -> list[str]:
    """Every bigram of the text's Chinese runs, as the build made them before bigram_ids."""
    runs = re.findall(r"[\u3400-\u9fff]{2,}", normalize(text))
    return [run[i : i + 2] for run in runs for i in range(len(run) - 1)]


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
        "bigrams": [all_bigrams(" ".join((*e.questions, e.title))) for e in entries],
    }
    for docs in corpora.values():
        assert_same_bm25(FieldIndex(docs), docs)


# Chinese at the ends of the range (U+3400, U+9FFF) and just outside it, full-width
# letters NFKC makes ASCII, a character beyond U+FFFF, texts with no pair at all.
ODD_TEXTS = [
    "",
    "abc 12",
    "㐀鿿",
    "㏿㐀䶵",
    "鿿ꀀ一二",
    "ＡＢ二手车",
    "𠀀𠀁中国𠀂人",
    "老人 欠薪",
    "一",
]


def test_bigram_numbers_are_the_bigrams(real_kb):
    texts = ODD_TEXTS + [" ".join((*e.questions, e.title)) for e in real_kb.entries]
    ids, counts, words = bigram_ids(texts)
    assert counts.sum() == len(ids)
    found = np.split(ids, np.cumsum(counts)[:-1])
    for text, doc in zip(texts, found, strict=True):
        assert [words[i] for i in doc] == all_bigrams(text), text
        # what the question side looks up for an unknown word spanning the whole text
        assert bigrams(text, [(0, len(normalize(text)))]) == all_bigrams(text), text


def test_bigram_field_from_numbers_is_the_field_from_strings(real_kb):
    texts = ODD_TEXTS + [" ".join((*e.questions, e.title)) for e in real_kb.entries]
    from_numbers = FieldIndex.of_ids(*bigram_ids(texts))
    from_strings = FieldIndex([all_bigrams(t) for t in texts])
    assert from_numbers.size == from_strings.size == len(texts)
    assert columns(from_numbers) == columns(from_strings)
    assert columns(from_numbers)[""][0] == [0, 1, 8]  # the empty texts hold the "" token


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
