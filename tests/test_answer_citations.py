"""Citations are checked against the laws in force (content/laws.toml)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.answer import check, validate
from bot.answer.laws import article_numbers, chinese_number
from tests.conftest import ROOT


@pytest.fixture
def content(tmp_path) -> Path:
    copy = tmp_path / "content"
    shutil.copytree(ROOT / "content", copy)
    return copy


def _cite(content: Path, entry_id: str, source: str) -> None:
    """Make `entry_id` of theme file fraud.toml cite `source` instead of its own sources."""
    path = content / "themes" / "fraud.toml"
    text = path.read_text("utf-8")
    start = text.index(f'id = "{entry_id}"')
    begin = text.index("sources = [", start)
    end = text.index("]\n", begin) + 2
    path.write_text(text[:begin] + f"sources = [ {source} ]\n" + text[end:], "utf-8")


def test_the_shipped_base_cites_only_laws_in_force():
    assert validate(ROOT / "content") == []


def test_a_repealed_law_is_refused(content):
    _cite(content, "fraud-safe-account", '{ law = "合同法", article = "第52条" }')
    problems = validate(content)
    assert any("引用的《合同法》已于 2021-01-01 废止，请改引《民法典》" in p for p in problems), (
        problems
    )
    assert any(re.match(r".*fraud\.toml:\d+: fraud-safe-account", p) for p in problems)


def test_an_article_past_the_last_is_refused(content):
    _cite(content, "fraud-safe-account", '{ law = "反电信网络诈骗法", article = "第51条" }')
    problems = validate(content)
    assert any(
        "引用《反电信网络诈骗法》第51条，但《反电信网络诈骗法》只有 50 条" in p for p in problems
    )


def test_a_law_not_listed_is_refused(content):
    _cite(content, "fraud-safe-account", '{ law = "诈骗防治条例", article = "第1条" }')
    assert any("引用的《诈骗防治条例》不在 content/laws.toml 中" in p for p in validate(content))


def test_a_law_revised_after_the_review_is_reported_not_refused(content):
    path = content / "themes" / "fraud.toml"
    text = path.read_text("utf-8")
    start = text.index('id = "fraud-safe-account"')
    at = text.index("reviewed = ", start)
    end = text.index("\n", at)
    path.write_text(text[:at] + "reviewed = 2020-01-01" + text[end:], "utf-8")
    problems, notices = check(content)
    assert problems == []
    assert any(
        "fraud-safe-account 的审核日期 2020-01-01 早于《反电信网络诈骗法》" in n for n in notices
    )


def test_articles_are_read_as_numbers():
    assert chinese_number("一千二百六十") == 1260 and chinese_number("五十") == 50
    assert chinese_number("十四") == 14 and chinese_number("二十") == 20
    assert article_numbers("第20、34条") == [20, 34]
    assert article_numbers("第33–43条") == [33, 43]
    assert article_numbers("第287条之二") == [287]
    assert article_numbers("第五十条第二款") == [50]
