"""`legalbot campaign …` as staff and scripts run it: JSON shapes, one-line refusals.

Most tests run the `legalbot` command object in this process (click's CliRunner: the
same code, a second faster); the first ones run the installed command as a subprocess.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from tests.campaignkit import legalbot as legalbot_process
from tests.campaignkit import make_fake, write_config


def legalbot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """`legalbot ARGS` in this process, with the test's config file."""
    result = CliRunner().invoke(main, list(args), env={"LEGALBOT_CONFIG": env["LEGALBOT_CONFIG"]})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


CONTRACT_FIELDS = {
    "id": str,
    "name": str,
    "theme": str,
    "audience": str,
    "state": str,
    "recipients": int,
    "sent": int,
    "skipped": int,
    "failed": int,
}


@pytest.fixture(scope="module")
def fake():
    with make_fake(5) as fake:
        yield fake


@pytest.fixture
def env(tmp_path, fake):
    env = write_config(tmp_path, fake)
    assert legalbot(env, "db", "upgrade").returncode == 0
    return env


def ok(env, *args) -> str:
    result = legalbot(env, "campaign", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def refused(env, *args) -> str:
    result = legalbot(env, "campaign", *args)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    "command",
    [
        ["campaign"],
        ["campaign", "create"],
        ["campaign", "list"],
        ["campaign", "show"],
        ["campaign", "schedule"],
        ["campaign", "cancel"],
        ["campaign", "preview"],
        ["campaign", "send"],
        ["campaign", "plan"],
        ["scheduler"],
    ],
)
def test_every_campaign_command_has_help(env, command):
    result = legalbot(env, *command, "--help")
    assert result.returncode == 0 and "Usage:" in result.stdout
    assert len(result.stdout.splitlines()) > 3


def test_the_installed_command_creates_and_shows_a_campaign(env):
    created = legalbot_process(
        env,
        "campaign",
        "create",
        "--name",
        "宪法日",
        "--theme",
        "constitution",
        "--audience",
        "all",
        "--text",
        "宪法",
    )
    shown = legalbot_process(env, "campaign", "show", created.stdout.strip(), "--json")
    wrong = legalbot_process(
        env,
        "campaign",
        "create",
        "--name",
        "n",
        "--theme",
        "weather",
        "--audience",
        "all",
        "--text",
        "t",
    )

    assert created.returncode == 0 and json.loads(shown.stdout)["state"] == "draft"
    assert wrong.returncode == 1 and "Traceback" not in wrong.stderr
    [line] = wrong.stderr.strip().splitlines()
    assert "not a theme" in line


def test_create_prints_the_id_and_show_json_has_the_contract_fields(env):
    at = "2099-12-04T09:00"
    campaign_id = ok(
        env,
        "create",
        "--name",
        "宪法日",
        "--theme",
        "constitution",
        "--audience",
        "all",
        "--text",
        "弘扬宪法精神",
        "--at",
        at,
    ).strip()

    shown = json.loads(ok(env, "show", campaign_id, "--json"))

    assert campaign_id.isdigit() and shown["id"] == campaign_id
    for field, kind in CONTRACT_FIELDS.items():
        assert isinstance(shown[field], kind), field
    assert shown["error"] is None
    assert (shown["state"], shown["scheduled_at"]) == ("scheduled", "2099-12-04T09:00:00+08:00")
    assert shown["content"] == {"kind": "text", "text": "弘扬宪法精神"}
    listed = json.loads(ok(env, "list", "--json"))
    assert [c["id"] for c in listed] == [campaign_id]


def test_create_json_is_the_campaign_object_and_entries_may_follow_one_flag(env):
    created = json.loads(
        ok(
            env,
            "create",
            "--name",
            "反诈合集",
            "--theme",
            "fraud",
            "--audience",
            "active48h",
            "--json",
            "--entry",
            "fraud-safe-account",
            "fraud-after-cheated",
        )
    )
    comma = json.loads(
        ok(
            env,
            "create",
            "--name",
            "反诈",
            "--theme",
            "fraud",
            "--audience",
            "all",
            "--entry",
            "fraud-safe-account,fraud-after-cheated",
            "--json",
        )
    )

    assert created["state"] == "draft" and created["scheduled_at"] is None
    assert created["content"]["entries"] == ["fraud-safe-account", "fraud-after-cheated"]
    assert comma["content"] == created["content"]
    assert "【反诈合集】" in ok(env, "show", created["id"])


def test_an_article_file_in_toml_makes_a_card(env, tmp_path):
    card = tmp_path / "card.toml"
    card.write_text(
        'title = "防范养老诈骗"\ndescription = "六个要点"\nurl = "https://example.org/a"\n'
    )
    created = json.loads(
        ok(
            env,
            "create",
            "--name",
            "养老",
            "--theme",
            "fraud",
            "--audience",
            "all",
            "--article",
            str(card),
            "--json",
        )
    )
    assert created["content"] == {
        "kind": "article",
        "title": "防范养老诈骗",
        "description": "六个要点",
        "url": "https://example.org/a",
    }


def test_a_cron_schedule_shows_its_next_run(env):
    created = json.loads(
        ok(
            env,
            "create",
            "--name",
            "每周一法",
            "--theme",
            "constitution",
            "--audience",
            "all",
            "--text",
            "t",
            "--cron",
            "0 9 * * 1",
            "--json",
        )
    )
    assert created["schedule_kind"] == "cron" and created["schedule"] == "0 9 * * 1"
    assert created["scheduled_at"].endswith("T09:00:00+08:00")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--theme", "weather", "--audience", "all", "--text", "t"], "not a theme"),
        (["--theme", "fraud", "--audience", "everyone", "--text", "t"], "must be all, tag:ID"),
        (
            ["--theme", "fraud", "--audience", "all", "--text", "t", "--at", "2026-13-40T09:00"],
            "not an ISO 8601",
        ),
        (
            ["--theme", "fraud", "--audience", "all", "--text", "t", "--at", "2020-01-01T09:00"],
            "in the past",
        ),
        (
            ["--theme", "fraud", "--audience", "all", "--text", "t", "--at", "2099-01-01"],
            "time of day",
        ),
        (
            ["--theme", "fraud", "--audience", "all", "--text", "t", "--cron", "0 25 * * *"],
            "not a crontab",
        ),
        (
            ["--theme", "fraud", "--audience", "all", "--text", "t", "--calendar", "xmas"],
            "not a day of the publicity calendar",
        ),
        (["--theme", "fraud", "--audience", "all", "--entry", "fraud-nope"], "no such entry"),
        (
            ["--theme", "fraud", "--audience", "openids:/nonexistent/list.txt", "--text", "t"],
            "no such file",
        ),
        (
            ["--theme", "fraud", "--audience", "all", "--article", "/nonexistent/a.toml"],
            "no such file",
        ),
        (["--theme", "fraud", "--audience", "all"], "exactly one of --text"),
        (
            ["--theme", "fraud", "--audience", "all", "--text", "t", "--text", "x" * 3000],
            "at most 2048",
        ),
    ],
)
def test_bad_requests_are_refused_in_one_line(env, args, says):
    assert says in refused(env, "create", "--name", "n", *args)


def test_a_bad_article_and_a_bad_openids_file_name_the_problem(env, tmp_path):
    card = tmp_path / "card.json"
    card.write_text('{"title": "t", "url": "ftp://x"}')
    assert "description is missing" in refused(
        env,
        "create",
        "--name",
        "n",
        "--theme",
        "fraud",
        "--audience",
        "all",
        "--article",
        str(card),
    )
    listed = tmp_path / "ids.txt"
    listed.write_text("oFake00000000000000000000000\nnot an openid!\n")
    line = refused(
        env,
        "create",
        "--name",
        "n",
        "--theme",
        "fraud",
        "--audience",
        f"openids:{listed}",
        "--text",
        "t",
    )
    assert line.endswith("ids.txt:2: not an OpenID") and "oFake" not in line


def test_wrong_state_transitions_are_refused(env):
    campaign_id = ok(
        env, "create", "--name", "n", "--theme", "fraud", "--audience", "all", "--text", "t"
    ).strip()
    assert ok(env, "cancel", campaign_id).strip() == f"推送 {campaign_id} 已取消"

    assert "is cancelled; only" in refused(env, "cancel", campaign_id)
    assert "is cancelled; only" in refused(env, "schedule", campaign_id, "--at", "2099-01-01T09:00")
    assert "is cancelled; only" in refused(env, "send", campaign_id)
    assert "no campaign '999'" in refused(env, "show", "999")
    assert "give --at" in refused(
        env,
        "schedule",
        ok(
            env, "create", "--name", "n", "--theme", "fraud", "--audience", "all", "--text", "t"
        ).strip(),
    )


def test_list_and_show_speak_chinese_and_leave_slugs_to_json(env):
    campaign_id = ok(
        env,
        "create",
        "--name",
        "反诈提醒",
        "--theme",
        "fraud",
        "--audience",
        "active48h",
        "--text",
        "陌生来电要核实",
        "--cron",
        "0 9 * * 1",
    ).strip()
    ok(
        env,
        "create",
        "--name",
        "草稿一条",
        "--theme",
        "elderly",
        "--audience",
        "all",
        "--text",
        "t",
    )

    listed = ok(env, "list").splitlines()
    shown = ok(env, "show", campaign_id)

    assert listed[0].split() == ["编号", "状态", "发送时间", "已送达/人数", "主题", "名称"]
    assert listed[1].split()[:2] == [campaign_id, "已排期"]
    assert "防范电信网络诈骗与养老诈骗" in listed[1] and listed[1].endswith("反诈提醒")
    assert "草稿" in listed[2] and "老年人权益保障" in listed[2]
    for english in ("scheduled", "draft", "fraud", "elderly", "active48h", "state"):
        assert english not in "\n".join(listed) + shown, english
    assert "状态：已排期" in shown and "主题：防范电信网络诈骗与养老诈骗" in shown
    assert "发送安排：每周一 09:00" in shown and "48小时内互动的关注者" in shown
    assert "发送情况：应发 0 人，已送达 0，微信拒收 0，失败 0" in shown
    assert "内容：\n陌生来电要核实" in shown
    assert json.loads(ok(env, "show", campaign_id, "--json"))["state"] == "scheduled"


@pytest.mark.parametrize("command", ["create", "schedule", "plan"])
def test_help_lists_the_themes_and_calendar_days_in_chinese(env, command):
    text = legalbot(env, "campaign", command, "--help").stdout
    assert "fraud" in text and "防范电信网络诈骗与养老诈骗" in text
    assert "double-ninth" in text and "重阳节" in text and "农历09-09" in text


def test_the_command_line_writes_the_audit_log_without_openids(env, tmp_path, fake):
    listed = tmp_path / "ids.txt"
    listed.write_text(fake.followers[0] + "\n")
    campaign_id = ok(
        env,
        "create",
        "--name",
        "名单",
        "--theme",
        "fraud",
        "--audience",
        f"openids:{listed}",
        "--text",
        "t",
    ).strip()
    ok(env, "schedule", campaign_id, "--at", "2099-01-01T09:00")
    ok(env, "cancel", campaign_id)

    import tomllib

    import sqlalchemy as sa

    from bot import records

    url = tomllib.loads(Path(env["LEGALBOT_CONFIG"]).read_text())["database"]["url"]
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(records.AuditEntry.__table__)).mappings().all()
    engine.dispose()
    assert [(r["actor"], r["action"]) for r in rows] == [
        ("命令行", "campaign.create"),
        ("命令行", "campaign.schedule"),
        ("命令行", "campaign.cancel"),
    ]
    assert rows[0]["target"] == f"推送 {campaign_id}「名单」"
    assert all(fake.followers[0] not in str(dict(r)) for r in rows)


def test_plan_drafts_the_years_calendar_once(env):
    first = json.loads(ok(env, "plan", "--year", "2027", "--json"))
    second = json.loads(ok(env, "plan", "--year", "2027", "--json"))

    assert len(first) == 10 and all(c["created"] for c in first)
    assert not any(c["created"] for c in second)
    assert [c["id"] for c in first] == [c["id"] for c in second]
    assert len(json.loads(ok(env, "list", "--json"))) == 10
    double_ninth = next(c for c in first if c["plan_key"] == "2027:double-ninth")
    assert double_ninth["scheduled_at"] == "2027-10-08T09:00:00+08:00"
    assert (double_ninth["state"], double_ninth["theme"], double_ninth["audience"]) == (
        "draft",
        "elderly",
        "all",
    )
    assert double_ninth["content"]["kind"] == "entries" and double_ninth["content"]["entries"]

    scheduled = json.loads(ok(env, "schedule", double_ninth["id"], "--json"))
    assert (scheduled["state"], scheduled["scheduled_at"]) == (
        "scheduled",
        "2027-10-08T09:00:00+08:00",
    )


def test_preview_reports_each_test_openid_by_number(env, fake):
    campaign_id = ok(
        env, "create", "--name", "n", "--theme", "fraud", "--audience", "all", "--text", "预览"
    ).strip()
    result = legalbot(
        env,
        "campaign",
        "preview",
        campaign_id,
        "--to",
        f"{fake.followers[0]},oStranger000000000000000000x",
    )

    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "--to 第 1 个：已发送",
        "--to 第 2 个：没有发出：WeChat 40003: invalid openid",
    ]
    assert fake.followers[0] not in result.stdout + result.stderr


def test_bad_campaign_settings_are_named_one_line_each(tmp_path, fake):
    env = write_config(tmp_path, fake, poll_seconds=60, send_time="9am")
    result = legalbot(env, "campaign", "list")
    assert result.returncode == 2
    assert sorted(result.stderr.splitlines()) == [
        "config: campaigns.poll_seconds: must be between 0.2 and 30, got 60.0",
        "config: campaigns.send_time: must be HH:MM (24-hour clock), got '9am'",
    ]


def test_config_toml_documents_every_campaign_setting_with_its_default():
    import tomllib

    from bot.config import DEFAULTS
    from tests.conftest import ROOT

    text = (ROOT / "config.toml").read_text()
    shipped = tomllib.loads(text)["campaigns"]
    assert shipped == DEFAULTS["campaigns"]
    lines = text.split("[campaigns]", 1)[1].splitlines()
    for key in DEFAULTS["campaigns"]:
        at = next(n for n, line in enumerate(lines) if line.startswith(f"{key} ="))
        above = next(
            line
            for line in reversed(lines[:at])
            if line.split("=")[0].strip() not in DEFAULTS["campaigns"]
        )
        assert above.startswith("#"), key


def test_nothing_in_bot_imports_the_scheduler():
    """STYLE.md: scheduler/ imports bot/, never the reverse (it plugs in by entry points)."""
    import re

    from tests.conftest import ROOT

    pattern = re.compile(r"^\s*(from|import)\s+scheduler\b", re.M)
    offenders = [p for p in (ROOT / "bot").rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []


def test_sending_without_wechat_credentials_is_refused_and_changes_nothing(tmp_path, fake):
    env = write_config(tmp_path, fake)
    config = Path(env["LEGALBOT_CONFIG"])
    config.write_text(config.read_text().replace('appid = "wx1234567890abcdef"', 'appid = ""'))
    assert legalbot(env, "db", "upgrade").returncode == 0
    campaign_id = ok(
        env, "create", "--name", "n", "--theme", "fraud", "--audience", "all", "--text", "t"
    ).strip()

    assert "wechat.appid and wechat.secret" in refused(env, "send", campaign_id)
    assert json.loads(ok(env, "show", campaign_id, "--json"))["state"] == "draft"
