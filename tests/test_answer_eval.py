"""`legalbot kb eval` on the development set meets the targets of the issue."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answer import Answerer, evaluate, load_knowledge_base
from bot.config import KnowledgeSettings
from bot.state import MemoryState

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
def report():
    if not DEV.exists():
        pytest.skip("no development set yet")
    kb = load_knowledge_base(ROOT / "content", TOWN)
    bot = Answerer(kb, MemoryState(), KnowledgeSettings(ROOT / "content", 0.55, 0.3, 30, 5))
    return evaluate(bot, DEV)


def test_report_lines_name_every_figure(report):
    text = "\n".join(report.lines())
    for figure in ("top-1", "top-3", "fallback precision", "fallback recall"):
        assert figure in text


def test_in_scope_questions_find_their_theme(report):
    assert report.top1 >= 0.92, "\n".join(report.lines())


def test_out_of_scope_questions_get_the_fallback(report):
    assert report.fallback_recall >= 0.90, "\n".join(report.lines())
