"""Only questions count as questions: greetings, the menu, numbers and an empty voice
message are interactions; a suggestion and an urgent message are counted apart."""

from __future__ import annotations

from datetime import date

from bot import figures
from bot.figures import exports, report
from tests.conftest import ROOT, TOWN, settled, summary
from tests.wxdriver import Driver


def _session(plain: Driver) -> None:
    """One resident's afternoon: 2 real questions the base cannot answer, 1 it can, and
    the rest of what residents send."""
    plain.text("o-1", "你好")
    plain.text("o-1", "菜单")
    plain.text("o-1", "3")
    plain.voice("o-1", None)  # WeChat heard nothing
    plain.text("o-1", "明天下雨吗我要去赶集")  # out of scope: the fallback
    plain.text("o-1", "契税怎么交")  # an area the base does not cover: a referral
    plain.text("o-1", "老板拖了三个月工资不给")  # answered from an entry
    plain.text("o-1", "拼多多帮我砍一刀")  # a look-alike, not a danger
    plain.text("o-1", "我不想活了")  # urgent


def test_greetings_menu_and_numbers_are_not_counted_as_questions(plain, app):
    _session(plain)
    figures = summary(app)
    assert figures["messages_received"] == 9
    assert figures["answered"] == 1
    # 明天下雨, 契税, 砍一刀: three questions without a direct answer; not 你好, 菜单, 3,
    # the empty voice message or the resident in danger.
    assert figures["unanswered"] == 3
    assert figures["referred"] == 1
    assert figures["urgent"] == 1
    assert figures["answer_rate"] == 0.25


def test_unanswered_questions_are_kept_for_staff_but_not_greetings_or_dangers(plain, app):
    _session(plain)
    texts = {q["text"] for q in summary(app)["top_unanswered"]}
    assert {"明天下雨吗我要去赶集", "契税怎么交"} <= texts
    assert not texts & {"你好", "菜单", "3", "我不想活了"}


def test_a_suggestion_is_counted_apart_and_kept_for_staff(plain, app):
    reply = plain.text("o-2", "工资")  # one word: "did you mean" a few entries
    assert "您是不是想问" in reply.content
    figures = summary(app)
    assert figures["suggested"] == 1 and figures["unanswered"] == 1
    assert figures["answered"] == 0
    assert "工资" in {q["text"] for q in figures["top_unanswered"]}


def test_the_annual_report_counts_only_questions(plain, app):
    _session(plain)
    engine = settled(app)
    tz = app.extensions["legalbot"].config.tz
    year = figures.current_year(tz)[0].year
    names = exports.load_names(ROOT / "content", TOWN)
    collected = exports.collect(engine, tz, date(year, 1, 1), date(year, 12, 31), names)
    text = report.markdown(collected, year, "甘河滩镇")
    assert "解答群众法律咨询1条，解答率25.0%" in text
    assert "另有3条咨询未能直接解答" in text
    assert "1条紧急求助消息第一时间提示了报警、急救或心理援助电话" in text
