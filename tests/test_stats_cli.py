"""The statistics and activity commands as operators type them: help, mistakes, exit codes."""

from __future__ import annotations

import json

import pytest

from tests.test_stats_exports import run


@pytest.fixture
def url(tmp_path):
    url = f"sqlite:///{tmp_path}/cli.db"
    assert run(["db", "upgrade"], url).returncode == 0
    return url


@pytest.mark.parametrize(
    "command",
    [
        ["stats", "series"],
        ["stats", "export"],
        ["stats", "report"],
        ["stats", "chart"],
        ["stats", "rollup"],
        ["activity"],
        ["activity", "add"],
        ["activity", "list"],
        ["activity", "remove"],
    ],
)
def test_every_statistics_command_has_help(command, tmp_path):
    result = run([*command, "--help"], f"sqlite:///{tmp_path}/x.db")
    assert result.returncode == 0
    assert "Usage:" in result.stdout


def test_activity_help_lists_the_kinds(tmp_path):
    result = run(["activity", "add", "--help"], f"sqlite:///{tmp_path}/x.db")
    assert "market (集市宣传)" in result.stdout and "training (法律明白人培训)" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["stats", "export", "--format", "xlsx", "--out", "x.xlsx", "--from", "2025-02-30"],
        ["stats", "export", "--format", "csv", "--out", "x.csv", "--to", "yesterday"],
        ["stats", "series", "--from", "2025-03-31", "--to", "2025-03-01"],
        ["stats", "chart", "--out", "x.svg", "--from", "20250301"],
        ["stats", "export", "--format", "pdf", "--out", "x.pdf"],
        ["stats", "export", "--format", "csv"],
        ["stats", "report"],
        ["stats", "report", "--year", "twenty"],
        ["stats", "report", "--year", "2025", "--out", "report.pdf"],
        ["stats", "series", "--by", "fortnight"],
        ["stats", "rollup", "--days", "2"],
        ["activity", "add", "--date", "2025-13-01", "--kind", "market", "--place", "集市"],
        ["activity", "add", "--date", "2025-03-01", "--kind", "庙会", "--place", "集市"],
        [
            "activity",
            "add",
            "--date",
            "2025-03-01",
            "--kind",
            "market",
            "--place",
            "集市",
            "--theme",
            "weather",
        ],
        [
            "activity",
            "add",
            "--date",
            "2025-03-01",
            "--kind",
            "market",
            "--place",
            "集市",
            "--scene",
            "has spaces",
        ],
        [
            "activity",
            "add",
            "--date",
            "2025-03-01",
            "--kind",
            "market",
            "--place",
            "集市",
            "--attendance",
            "-5",
        ],
        ["activity", "list", "--from", "March"],
    ],
)
def test_mistakes_exit_2_with_one_clear_line(args, url, tmp_path):
    args = [str(tmp_path / a) if a.startswith(("x.", "report.")) else a for a in args]
    result = run(args, url)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip()


def test_a_mistaken_kind_names_the_choices(url):
    result = run(["activity", "add", "--date", "2025-03-01", "--kind", "庙会", "--place", "x"], url)
    assert "activity: kind: unknown kind '庙会'" in result.stderr
    assert "lecture (法治讲座)" in result.stderr


def test_statistics_on_a_database_never_upgraded_say_what_to_do(tmp_path):
    url = f"sqlite:///{tmp_path}/fresh.db"
    for args in (
        ["stats", "export", "--format", "csv", "--out", str(tmp_path / "x.csv")],
        ["stats", "series"],
        ["activity", "list"],
    ):
        result = run(args, url)
        assert result.returncode == 1
        assert "legalbot db upgrade" in result.stderr
        assert "Traceback" not in result.stderr


def test_an_unwritable_file_is_reported(url, tmp_path):
    result = run(
        ["stats", "export", "--format", "csv", "--out", str(tmp_path / "no/such/x.csv")], url
    )
    assert result.returncode == 1
    assert "cannot write" in result.stderr and "Traceback" not in result.stderr


def test_staff_record_list_and_remove_an_activity(url):
    added = run(
        [
            "activity",
            "add",
            "--date",
            "2025-05-03",
            "--kind",
            "school",
            "--place",
            "甘河滩中心小学",
            "--theme",
            "minors",
            "--attendance",
            "320",
            "--scene",
            "school-2025-05",
            "--note",
            "防欺凌专题",
            "--json",
        ],
        url,
    )
    assert added.returncode == 0, added.stderr
    activity = json.loads(added.stdout)
    assert activity["kind_name"] == "法律进学校" and activity["attendance"] == 320
    plain = run(
        ["activity", "add", "--date", "2025-06-01", "--kind", "其他普法活动", "--place", "村委会"],
        url,
    )
    assert plain.stdout.strip().isdigit()
    listed = json.loads(run(["activity", "list", "--json"], url).stdout)
    assert [a["place"] for a in listed] == ["甘河滩中心小学", "村委会"]
    june = json.loads(run(["activity", "list", "--json", "--from", "2025-06-01"], url).stdout)
    assert [a["place"] for a in june] == ["村委会"]
    text = run(["activity", "list"], url).stdout
    assert "法律进学校\t甘河滩中心小学 320人 二维码:school-2025-05" in text
    assert run(["activity", "remove", str(activity["id"])], url).returncode == 0
    again = run(["activity", "remove", str(activity["id"])], url)
    assert again.returncode == 1 and "no activity with id" in again.stderr
    assert [a["place"] for a in json.loads(run(["activity", "list", "--json"], url).stdout)] == [
        "村委会"
    ]


def test_rollup_with_retention_zero_keeps_everything(url, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[wechat]\ntoken = "tok123"\n[stats]\nretention_days = 0\n')
    result = run(["stats", "rollup"], url, LEGALBOT_CONFIG=str(config))
    assert result.returncode == 0
    assert "原始记录全部保留，未删除" in result.stdout


def test_a_bad_retention_setting_stops_the_command_with_one_line(url, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[wechat]\ntoken = "tok123"\n[stats]\nretention_days = 3\n')
    result = run(["stats", "rollup"], url, LEGALBOT_CONFIG=str(config))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "config: stats.retention_days: must be 0 (keep raw events) or at least 7, got 3"
    )
