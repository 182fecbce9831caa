"""Easy facts come from data: hotlines from help.toml, days from the publicity calendar."""

from __future__ import annotations

from datetime import date

import pytest

from bot.answer import Answerer, load_knowledge_base
from bot.calendar import calendar_days, day_in_year
from bot.state import MemoryState
from tests.conftest import ROOT, TOWN
from tests.test_answer_engine import settings


@pytest.fixture(scope="module")
def real():
    kb = load_knowledge_base(ROOT / "content", TOWN)
    return Answerer(kb, MemoryState(), settings(ROOT / "content"))


@pytest.mark.parametrize(
    ("question", "number", "theme"),
    [
        ("12339是什么电话", "12339", "national_security"),
        ("12339", "12339", "national_security"),
        ("妇女维权热线是多少", "12338", "women"),
        ("反诈电话是多少？", "96110", "fraud"),
        ("法律援助电话是多少", "12348", "legal_aid"),
        ("12315是干什么的", "12315", "consumer"),
    ],
)
def test_a_hotline_question_is_answered_from_help_toml(real, question, number, theme):
    answer = real.ask(question)
    assert answer.kind == "fact" and answer.matched and answer.theme == theme
    assert answer.text.startswith(number)


def test_the_psychological_line_is_known(real):
    answer = real.ask("心理援助热线是多少")
    assert answer.kind == "fact" and "12356" in answer.text


@pytest.mark.parametrize(
    ("question", "when", "theme"),
    [
        ("国际禁毒日是哪天", "6月26日", "drugs"),
        ("国家宪法日是几月几号", "12月4日", "constitution"),
        ("为什么要设立国家宪法日", "1982年12月4日", "constitution"),
        ("4·15是什么日子", "4月15日", "national_security"),
        ("6月26日是什么日子", "国际禁毒日", "drugs"),
    ],
)
def test_a_day_question_is_answered_from_the_calendar(real, question, when, theme):
    answer = real.ask(question)
    assert answer.kind == "fact" and answer.theme == theme, answer.text
    assert when in answer.text


def test_the_double_ninth_names_this_years_solar_date(real):
    import tomllib

    taxonomy = tomllib.loads((ROOT / "bot" / "answer" / "taxonomy.toml").read_text("utf-8"))
    day = calendar_days(taxonomy["calendar"], "taxonomy")["double-ninth"]
    today = date(2026, 3, 1)
    solar = day_in_year(day, 2026)
    answer = real.ask("重阳节是哪天", today=today)
    assert "农历九月初九" in answer.text
    assert f"2026年是{solar.month}月{solar.day}日" in answer.text
    assert "老年人权益保障法第12条" in answer.text


def test_a_longer_question_about_a_hotline_goes_to_the_search(real):
    answer = real.ask("打12348能帮我找律师打官司吗 我家里困难")
    assert answer.kind != "fact"
