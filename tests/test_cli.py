"""The `legalbot` commands as operators and outside checks run them."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from bot import config as config_module
from bot import create_app
from tests.conftest import ROOT, TOKEN
from tests.wxdriver import Driver


def run(args, tmp_path, stdin=None, **env):
    environ = {
        **os.environ,
        "LEGALBOT_DATABASE_URL": f"sqlite:///{tmp_path}/cli.db",
        "LEGALBOT_SECRET_KEY": "cli-secret",
        **env,
    }
    return subprocess.run(
        ["legalbot", *args],
        cwd=ROOT,
        env=environ,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["serve"],
        ["ask"],
        ["kb"],
        ["kb", "validate"],
        ["kb", "export"],
        ["kb", "eval"],
        ["kb", "reload"],
        ["stats"],
        ["stats", "summary"],
        ["db"],
        ["db", "upgrade"],
        ["staff", "add"],
        ["simulate"],
    ],
)
def test_every_command_has_help(command, tmp_path):
    result = run([*command, "--help"], tmp_path)
    assert result.returncode == 0
    assert "Usage:" in result.stdout


def test_db_upgrade_is_idempotent(tmp_path):
    assert run(["db", "upgrade"], tmp_path).returncode == 0
    assert run(["db", "upgrade"], tmp_path).returncode == 0


def test_db_upgrade_reports_an_unreachable_database_in_one_line(tmp_path):
    result = run(
        ["db", "upgrade"],
        tmp_path,
        LEGALBOT_DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none",
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_stats_summary_counts_what_the_webhook_received(tmp_path):
    assert run(["db", "upgrade"], tmp_path).returncode == 0
    config = config_module.load(
        ROOT / "config.toml",
        environ={
            "LEGALBOT_DATABASE_URL": f"sqlite:///{tmp_path}/cli.db",
            "LEGALBOT_SECRET_KEY": "cli-secret",
            "LEGALBOT_WECHAT_TOKEN": TOKEN,
        },
    )
    app = create_app(config)
    driver = Driver(app.test_client(), TOKEN)
    driver.text("o-1", "老板拖了三个月工资不给", msg_id=5001)
    driver.text("o-1", "老板拖了三个月工资不给", msg_id=5001)
    driver.text("o-2", "今天天气怎么样", msg_id=5002)
    driver.event("o-3", "subscribe")
    driver.event("o-3", "CLICK", key="THEME_fraud")
    app.extensions["legalbot"].close()
    result = run(["stats", "summary", "--json"], tmp_path)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    for field in (
        "from",
        "to",
        "messages_received",
        "unique_users",
        "answered",
        "unanswered",
        "subscribes",
        "unsubscribes",
        "menu_clicks",
        "by_theme",
        "campaigns",
    ):
        assert field in figures
    assert figures["messages_received"] == 2
    assert figures["unique_users"] == 2
    assert (figures["answered"], figures["unanswered"]) == (1, 1)
    assert (figures["subscribes"], figures["unsubscribes"], figures["menu_clicks"]) == (1, 0, 1)
    assert figures["by_theme"] == {"labor": 1}
    assert figures["campaigns"] == []
    past = json.loads(
        run(
            ["stats", "summary", "--json", "--from", "2020-01-01", "--to", "2020-12-31"], tmp_path
        ).stdout
    )
    assert past["messages_received"] == 0 and past["from"] == "2020-01-01"
    # Staff read the text: the figures by their Chinese names, the theme by its name.
    text = run(["stats", "summary"], tmp_path)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert "  收到群众消息：2条" in lines and "    劳动争议：1" in lines
    assert "labor" not in text.stdout


def test_commands_staff_read_answer_in_chinese(tmp_path):
    upgraded = run(["db", "upgrade"], tmp_path)
    assert upgraded.returncode == 0 and upgraded.stdout.startswith("数据库结构已是最新")
    rolled = run(["stats", "rollup"], tmp_path)
    assert rolled.returncode == 0 and rolled.stdout.startswith("汇总了 ")
    wrong = run(["stats", "summary", "--from", "2026-03-01", "--to", "2026-01-01"], tmp_path)
    assert wrong.returncode == 2 and wrong.stderr.strip() == "stats：--from 的日期晚于 --to"
    out = tmp_path / "figures.csv"
    written = run(["stats", "export", "--format", "csv", "--out", str(out)], tmp_path)
    assert written.returncode == 0 and written.stdout.startswith(f"已写入 {out}（")
    for command in (["stats"], ["stats", "summary"], ["stats", "export"], ["ask"]):
        helped = run([*command, "--help"], tmp_path).stdout
        description = helped.split("\n\n")[1]  # the command's own words, after Usage
        assert re.search("[\u4e00-\u9fff]", description), (command, description)


def test_the_theme_slugs_are_listed_in_help(tmp_path):
    helped = run(["activity", "add", "--help"], tmp_path).stdout
    flat = " ".join(helped.split())
    for pair in ("fraud=防范电信网络诈骗与养老诈骗", "labor=劳动争议", "marriage_family=婚姻家庭"):
        assert pair in flat


def test_stats_summary_rejects_bad_dates(tmp_path):
    result = run(["stats", "summary", "--json", "--from", "2026-13-01"], tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_ask_answers_one_question_as_json(tmp_path):
    result = run(["ask", "--json", "老板拖欠工资三个月了怎么办"], tmp_path)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert set(answer) >= {
        "question",
        "matched",
        "theme",
        "entry_id",
        "title",
        "score",
        "answer",
        "suggestions",
    }
    assert answer["matched"] is True and answer["theme"] == "labor"


def test_ask_reads_questions_from_stdin_in_order(tmp_path):
    questions = ["老板拖欠工资三个月了怎么办", "你好", "明天天气怎么样"]
    result = run(["ask", "--json"], tmp_path, stdin="\n".join(questions) + "\n")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["question"] for line in lines] == questions
    assert lines[1]["matched"] is False and lines[1]["theme"] is None
    assert lines[2]["matched"] is False and lines[2]["entry_id"] is None


def test_kb_export_lists_every_entry(tmp_path):
    result = run(["kb", "export", "--json"], tmp_path)
    entries = json.loads(result.stdout)
    assert len(entries) >= 180
    for entry in entries:
        assert set(entry) >= {"id", "theme", "title", "questions", "keywords", "answer", "sources"}


def test_kb_validate_accepts_the_shipped_knowledge_base(tmp_path):
    result = run(["kb", "validate"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_staff_add_creates_an_account(tmp_path):
    run(["db", "upgrade"], tmp_path)
    result = run(["staff", "add", "clerk", "--password", "long-enough-pw"], tmp_path)
    assert result.returncode == 0
    assert "已创建控制台账号 clerk" in result.stdout
    again = run(["staff", "add", "clerk", "--password", "another-long-pw"], tmp_path)
    assert "已更新控制台账号 clerk" in again.stdout
    editor = run(
        ["staff", "add", "writer", "--password", "long-enough-pw", "--role", "editor"], tmp_path
    )
    assert editor.returncode == 0, editor.stderr
    short = run(["staff", "add", "nobody", "--password", "short"], tmp_path)
    assert short.returncode == 1
    assert short.stderr.strip() == "staff: 密码至少需要 8 个字符"
    from sqlalchemy import create_engine, text

    with create_engine(f"sqlite:///{tmp_path}/cli.db").connect() as conn:
        roles = dict(conn.execute(text("SELECT username, role FROM staff_users")).all())
        actions = conn.execute(text("SELECT actor, action, target FROM audit_log")).all()
    assert roles == {"clerk": "admin", "writer": "editor"}  # the first account administers
    assert ("命令行", "account.create", "writer") in actions


def test_kb_reload_makes_a_running_service_pick_up_an_edit(tmp_path):
    import os
    import shutil
    import time

    from bot.answer import KnowledgeBaseHolder

    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    town = config_module.load(ROOT / "config.toml", environ={}).town
    holder = KnowledgeBaseHolder(content, town, check_seconds=0.01)
    theme_file = content / "themes" / "labor.toml"
    before = theme_file.stat()
    first = holder.current().by_theme("labor")[0]
    theme_file.write_text(
        theme_file.read_text().replace(first.title, "（已修改）" + first.title, 1)
    )
    os.utime(theme_file, ns=(before.st_atime_ns, before.st_mtime_ns))  # an edit mtime cannot see
    config = tmp_path / "config.toml"
    config.write_text(f'[wechat]\ntoken = "tok123"\n[knowledge]\ncontent_dir = "{content}"\n')
    result = run(["kb", "reload"], tmp_path, LEGALBOT_CONFIG=str(config))
    assert result.returncode == 0, result.stderr
    time.sleep(0.05)
    holder.current()
    holder.wait(30)
    assert holder.current().by_id(first.id).title == "（已修改）" + first.title


def test_kb_reload_refuses_a_broken_edit(tmp_path):
    import shutil

    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    (content / "themes" / "labor.toml").write_text("[[entries]]\nid = 'broken\n")
    config = tmp_path / "config.toml"
    config.write_text(f'[wechat]\ntoken = "tok123"\n[knowledge]\ncontent_dir = "{content}"\n')
    result = run(["kb", "reload"], tmp_path, LEGALBOT_CONFIG=str(config))
    assert result.returncode == 1
    assert "labor.toml:" in result.stderr
    assert not (content / ".reload").exists()
