"""A question outside the base gets an honest referral naming its area, never a confident
answer from an entry that merely shares common words with it."""

from __future__ import annotations

import pytest

from bot.answer import Answerer, load_knowledge_base
from bot.state import MemoryState
from tests.conftest import ROOT, TOWN
from tests.test_answer_engine import settings


@pytest.fixture(scope="module")
def real():
    kb = load_knowledge_base(ROOT / "content", TOWN)
    return Answerer(kb, MemoryState(), settings(ROOT / "content"))


@pytest.mark.parametrize(
    ("question", "area", "named"),
    [
        ("契税怎么交", "tax", "税务"),
        ("朋友被刑拘了 取保候审要多少钱", "criminal", "取保候审"),
        ("公积金怎么提取出来", "finance", "金融"),
        ("村委会账目好几年不公开 找谁反映", "village_affairs", "村务"),
        ("我写的歌被人翻唱了 能告他吗", "ip", "著作权"),
    ],
)
def test_a_question_outside_the_base_is_referred_to_its_area(real, question, area, named):
    answer = real.ask(question)
    assert not answer.matched and answer.kind == "referral" and answer.area == area
    assert named in answer.text
    assert "12348" in answer.text and "回复“菜单”" in answer.text


def test_an_entry_that_holds_the_area_word_still_answers(real):
    # 缓刑 is community correction's own word; 社保 questions of labour stay labour's.
    answer = real.ask("单位不给交社保 我能要求补缴吗")
    assert answer.kind in ("entry", "suggest")


def test_the_area_gate_looks_at_every_candidate_not_just_the_first(real):
    kb = real._holder.current()
    named = kb.areas.named("契税怎么交")
    ranking = kb.search("契税怎么交")
    assert named.words == ("契税",)
    assert not any(kb.holds(kb.entries[h.doc], "契税") for h in ranking.hits)
