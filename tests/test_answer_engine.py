"""Residents' questions find the right entry; out-of-scope questions get the honest fallback."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answer import Answerer, KnowledgeBase, load_knowledge_base
from bot.config import KnowledgeSettings
from bot.state import MemoryState
from tests.conftest import ROOT, TOWN

FIXTURE = ROOT / "tests" / "data" / "kb_fixture"


def settings(content: Path) -> KnowledgeSettings:
    return KnowledgeSettings(content, 0.55, 0.3, 30, 5)


@pytest.fixture(scope="module")
def real_kb() -> KnowledgeBase:
    return load_knowledge_base(ROOT / "content", TOWN)


@pytest.fixture(scope="module")
def real(real_kb) -> Answerer:
    return Answerer(real_kb, MemoryState(), settings(ROOT / "content"))


@pytest.fixture(scope="module")
def small() -> Answerer:
    kb = load_knowledge_base(FIXTURE, TOWN)
    return Answerer(kb, MemoryState(), settings(FIXTURE))


def test_every_real_reply_fits_wechat(real_kb):
    assert len(real_kb.entries) > 100
    for entry in real_kb.entries:
        reply = real_kb.render(entry)
        assert len(reply.encode("utf-8")) <= 2048, entry.id
        assert entry.answer in reply and "依据：《" in reply


def test_help_lines_have_the_town_filled_in(real_kb):
    assert "甘河滩镇人民调解委员会" in real_kb.help_texts["mediation"]
    assert not any("{town_" in text for text in real_kb.help_texts.values())


def test_export_has_the_contract_fields(real_kb):
    exported = real_kb.entries[0].export()
    assert set(exported) >= {"id", "theme", "title", "questions", "keywords", "answer", "sources"}
    assert isinstance(exported["reviewed"], str)
    assert real_kb.by_id(exported["id"]) is real_kb.entries[0]


def test_themes_follow_the_taxonomy(real_kb):
    assert list(real_kb.themes)[:2] == ["fraud", "drugs"]
    assert len(real_kb.themes) == 22


@pytest.mark.parametrize(
    ("question", "theme"),
    [
        ("有个自称公安的打电话叫我把存款转到安全账户去", "fraud"),
        ("骗子骗走了我两万块钱还能要回来不", "fraud"),
        ("老板欠了我三个月工资不给咋办", "labor"),
        ("儿子不给老人赡养费", "elderly"),
        ("骑电动车出了车祸对方全责不赔钱", "traffic"),
        ("邻居把墙盖到我家宅基地上了", "neighbor"),
    ],
)
def test_paraphrases_find_their_theme(real, question, theme):
    answer = real.ask(question)
    themes = [t for _, t, _ in answer.ranked[:3]]
    assert answer.kind in ("entry", "suggest")
    assert theme in themes


def test_a_beaten_wife_gets_110_first_and_then_the_entry_on_domestic_violence(real):
    answer = real.ask("老公天天打我")
    assert answer.urgent
    assert "110" in answer.text.splitlines()[0]
    assert answer.theme == "women" and answer.entry_id == "women-domestic-violence"
    assert "12338" in answer.text


def test_a_clear_question_is_answered_from_its_entry(small):
    answer = small.ask("有人说他是警察，让我把钱转到安全账户")
    assert answer.matched and answer.kind == "entry"
    assert answer.entry_id == "fraud-safe-account"
    assert answer.text.startswith("【自称公检法")
    assert "96110" in answer.text


def test_colloquial_words_meet_the_laws_words(small):
    answer = small.ask("讨薪难，工钱一直拿不到")
    assert answer.ranked[0][0] == "labor-wage-arrears"


def test_unknown_words_are_matched_by_character_pairs(small):
    # 刷单子 is not in the dictionary; its character pairs still meet 刷单
    assert small.ask("网上刷单子要先垫钱").ranked[0][0] == "fraud-brushing-orders"


@pytest.mark.parametrize(
    "question",
    ["明天下雨吗", "今年洋芋多少钱一斤", "医保报销怎么交", "给我讲个笑话", "身份证补办在哪"],
)
def test_out_of_scope_gets_the_honest_fallback(real, question):
    answer = real.ask(question)
    assert answer.kind in ("fallback", "referral") and not answer.matched
    assert "抱歉，这个问题我暂时回答不了" in answer.text
    assert "12348" in answer.text and "甘河滩镇人民调解委员会" in answer.text
    assert "回复“菜单”" in answer.text


def test_greeting_menu_and_welcome(real):
    hello = real.ask("你好")
    assert hello.kind == "greeting" and "甘河滩镇普法公众号" in hello.text
    menu = real.ask("菜单")
    assert menu.kind == "menu" and "1. 防范电信网络诈骗与养老诈骗" in menu.text
    assert "22. 劳动争议" in menu.text
    assert real.ask("帮助").kind == "menu"
    welcome = real.welcome()
    assert welcome.startswith("您好！这里是甘河滩镇普法公众号") and "2. 禁毒" in welcome


def test_a_theme_number_without_a_user_opens_the_theme_list(real):
    answer = real.ask("１")
    assert answer.kind == "theme_list" and answer.theme == "fraud"
    assert answer.text.startswith("【防范电信网络诈骗与养老诈骗】")
    assert "\n1. " in answer.text


def test_every_reply_fits_wechat(real, real_kb):
    for slug in real_kb.themes:
        assert len(real.theme_list(slug).text.encode("utf-8")) <= 2048
    assert len(real.menu().text.encode("utf-8")) <= 2048
    assert len(real.welcome().encode("utf-8")) <= 2048


def test_json_has_exactly_the_contract_fields(small):
    data = small.ask("被骗子骗了刷单").to_json("被骗子骗了刷单")
    assert set(data) == {
        "question",
        "matched",
        "theme",
        "entry_id",
        "title",
        "score",
        "answer",
        "urgent",
        "suggestions",
    }
    assert data["urgent"] is False
    fallback = small.ask("天气怎么样").to_json("天气怎么样")
    assert fallback["matched"] is False and fallback["theme"] is None
    assert fallback["entry_id"] is None


def test_the_legal_basis_names_each_law_once():
    from bot.answer import Entry

    entry = Entry(
        id="labor-x",
        theme="labor",
        title="t",
        questions=(),
        keywords=(),
        answer="a",
        sources=(
            {"law": "劳动合同法", "article": "第30条"},
            {"law": "《劳动合同法》", "article": "第85条"},
            {"law": "劳动争议调解仲裁法", "article": "第9条"},
            {"law": "刑法"},
        ),
        help=(),
        reviewed=None,
    )
    assert entry.citation() == "《劳动合同法》第30条、第85条；《劳动争议调解仲裁法》第9条；《刑法》"
