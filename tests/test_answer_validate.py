"""`legalbot kb validate`: every kind of problem is reported as `file:line: message`."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.answer import load_knowledge_base, validate
from bot.errors import KnowledgeBaseError

FIXTURE = Path(__file__).parent / "data" / "kb_fixture"
REAL = Path(__file__).parents[1] / "content"

GOOD_ENTRY = """
[[entries]]
id = "labor-overtime"
title = "加班不给加班费怎么办？"
questions = ["天天加班没有加班费", "周末加班给多少钱", "加班费怎么算"]
keywords = ["加班费", "加班"]
answer = "加班要付加班费：平时1.5倍，休息日2倍，法定节假日3倍。"
sources = [{ law = "劳动法", article = "第44条" }]
help = ["12333"]
reviewed = 2026-11-25
"""


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A copy of the fixture knowledge base that a test may break."""
    target = tmp_path / "content"
    shutil.copytree(FIXTURE, target)
    return target


def _write_labor(content: Path, text: str) -> Path:
    path = content / "themes" / "labor.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _only_problem(content: Path) -> str:
    problems = validate(content)
    assert len(problems) == 1, problems
    return problems[0]


def test_the_fixture_and_the_real_content_are_valid():
    assert validate(FIXTURE) == []
    assert validate(REAL) == []


def test_malformed_toml_points_at_its_line(content):
    path = _write_labor(content, 'theme = "labor"\n\n[[entries]]\nid = "labor-x\n')
    assert _only_problem(content).startswith(f"{path}:4: TOML 格式有错")


def test_unknown_theme_is_reported_on_the_theme_line(content):
    path = content / "themes" / "weather.toml"
    path.write_text('# x\ntheme = "weather"\n' + GOOD_ENTRY, encoding="utf-8")
    assert _only_problem(content) == f"{path}:2: 主题 'weather' 不在主题表（taxonomy）里"


def test_theme_must_match_the_file_name(content):
    path = content / "themes" / "traffic.toml"
    path.write_text('theme = "labor"\n' + GOOD_ENTRY, encoding="utf-8")
    problems = validate(content)
    assert f"{path}:1: 主题 theme 'labor' 要和文件名 traffic.toml 一致" in problems


def test_duplicate_id_names_both_places(content):
    path = _write_labor(content, 'theme = "labor"\n' + GOOD_ENTRY + GOOD_ENTRY)
    problem = _only_problem(content)
    assert problem.startswith(f"{path}:13: 条目编号 id 'labor-overtime' 重复")
    assert f"（已用于 {path}:3）" in problem


def test_missing_field_points_at_the_entry(content):
    path = _write_labor(content, 'theme = "labor"\n' + GOOD_ENTRY.replace('help = ["12333"]\n', ""))
    assert _only_problem(content) == f"{path}:3: 缺少字段 help（求助渠道）"


def test_too_few_questions(content):
    text = GOOD_ENTRY.replace('"周末加班给多少钱", "加班费怎么算"', '"周末加班给多少钱"')
    path = _write_labor(content, 'theme = "labor"\n' + text)
    assert _only_problem(content) == f"{path}:6: questions（群众问法）至少要 3 项，现在只有 2 项"


def test_answer_over_the_limit(content):
    text = GOOD_ENTRY.replace("加班要付加班费", "加" * 300 + "加班要付加班费")
    path = _write_labor(content, 'theme = "labor"\n' + text)
    problem = _only_problem(content)
    assert problem.startswith(f"{path}:8: answer（回答）有 3")
    assert "超过了 300 字的上限" in problem


def test_unknown_help_key_and_bad_article(content):
    text = GOOD_ENTRY.replace('["12333"]', '["12333", "99999"]').replace("第44条", "44")
    path = _write_labor(content, 'theme = "labor"\n' + text)
    problems = validate(content)
    assert f"{path}:9: 《劳动法》的条文 '44' 要写成“第N条”或“第N条第M款”的样子" in problems
    assert f"{path}:10: 求助渠道 help 里的 '99999' 不在 help.toml 中" in problems


def test_id_must_start_with_the_theme(content):
    path = _write_labor(
        content, 'theme = "labor"\n' + GOOD_ENTRY.replace("labor-overtime", "overtime")
    )
    assert _only_problem(content).startswith(f"{path}:4: 条目编号 id 'overtime' 要写成 labor-")


def test_wrong_types_and_unknown_fields(content):
    text = GOOD_ENTRY.replace("reviewed = 2026-11-25", 'reviewed = "yesterday"\nnote = "x"')
    path = _write_labor(content, 'theme = "labor"\n' + text)
    problems = validate(content)
    assert f"{path}:11: reviewed（审核日期）要写成 2026-11-25 这样的日期（不加引号）" in problems
    assert f"{path}:12: 不认识的字段 'note'" in problems


def test_reply_over_wechat_limit(content):
    long_help = "很长的求助说明" * 120
    (content / "help.toml").write_text(
        (FIXTURE / "help.toml").read_text("utf-8") + f'\n[contacts.long]\ntext = "{long_help}"\n',
        encoding="utf-8",
    )
    path = _write_labor(content, 'theme = "labor"\n' + GOOD_ENTRY.replace('["12333"]', '["long"]'))
    problem = _only_problem(content)
    assert problem.startswith(f"{path}:3: labor-overtime 的回复有 ")
    assert "超过微信 2048 字节的上限" in problem


def test_loading_a_broken_base_raises_with_the_problems(content):
    _write_labor(content, 'theme = "labor"\n' + GOOD_ENTRY.replace('help = ["12333"]\n', ""))
    with pytest.raises(KnowledgeBaseError) as info:
        load_knowledge_base(content, {"mediation": "镇调委会"})
    assert any("缺少字段 help" in p for p in info.value.problems)


def test_missing_town_setting_is_reported(content):
    with pytest.raises(KnowledgeBaseError) as info:
        load_knowledge_base(content, {})
    assert any(
        "{town_mediation} 没有在 config.toml 的 [town] 中设置" in p for p in info.value.problems
    )


def test_the_command_lists_every_kind_of_problem_and_exits_1(content):
    """`legalbot kb validate PATH`: one `file:line: message` line per problem, exit status 1."""
    from click.testing import CliRunner

    from bot.cli import main

    themes = content / "themes"
    (themes / "weather.toml").write_text('theme = "weather"\n' + GOOD_ENTRY, encoding="utf-8")
    (themes / "fraud.toml").write_text('theme = "fraud"\n[[entries]\nid = "x"\n', encoding="utf-8")
    long_answer = GOOD_ENTRY.replace("labor-overtime", "labor-long").replace(
        "加班要付加班费", "加" * 301
    )
    no_help = GOOD_ENTRY.replace("labor-overtime", "labor-no-help").replace(
        'help = ["12333"]\n', ""
    )
    _write_labor(content, 'theme = "labor"\n' + GOOD_ENTRY + GOOD_ENTRY + long_answer + no_help)
    result = CliRunner().invoke(main, ["kb", "validate", str(content)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines and all(re.match(r"^\S+\.toml:\d+: \S", line) for line in lines), lines
    text = "\n".join(lines)
    for kind in (
        "主题 'weather' 不在主题表",
        "TOML 格式有错",
        "条目编号 id 'labor-overtime' 重复",
        "缺少字段 help",
        "超过了 300 字的上限",
    ):
        assert kind in text, kind
