"""`legalbot mediation …` as staff and scripts run it: JSON shapes, Chinese output, one-line
refusals with their exit codes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from bot.cli import main
from tests.test_stats_exports import run

CASE_FIELDS = {
    "id", "reference", "date", "type", "committee", "committee_name", "mediator", "source",
    "state", "closed_on", "village", "from_account", "contact", "personal_deleted",
}  # fmt: skip


@pytest.fixture
def cli(tmp_path):
    env = {
        "LEGALBOT_DATABASE_URL": f"sqlite:///{tmp_path}/m.db",
        "LEGALBOT_SECRET_KEY": "cli-key",
        "LEGALBOT_CONFIG": str(tmp_path / "none.toml"),
    }
    (tmp_path / "none.toml").write_text("")

    def invoke(*args: str):
        result = CliRunner().invoke(main, list(args), env=env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    assert invoke("db", "upgrade").exit_code == 0
    return invoke


def test_add_prints_the_id_and_with_json_the_case_without_personal_fields(cli):
    assert cli("mediation", "add", "--date", "2026-03-01", "--type", "neighbor",
               "--committee", "town").stdout.strip() == "1"  # fmt: skip
    out = cli("mediation", "add", "--date", "2026-03-02", "--type", "traffic",
              "--committee", "village:上庄村", "--source", "police-room", "--json")  # fmt: skip
    case = json.loads(out.stdout)
    assert set(case) == CASE_FIELDS
    assert (case["id"], case["type"], case["committee"], case["committee_name"]) == (
        2, "traffic", "village", "上庄村",
    )  # fmt: skip
    assert case["source"] == "police-room" and case["state"] == "accepted"


def test_list_show_and_close_speak_chinese(cli):
    cli("mediation", "add", "--date", "2026-03-01", "--type", "land", "--committee", "town")
    listed = cli("mediation", "list").stdout
    assert "山林土地纠纷" in listed and "镇调委会" in listed and "已受理" in listed
    closed = cli("mediation", "close", "1", "--outcome", "settled", "--date", "2026-03-09")
    assert closed.exit_code == 0 and "调解成功" in closed.stdout
    shown = cli("mediation", "show", "1").stdout
    assert "状态：调解成功" in shown and "结案日期：2026-03-09" in shown
    data = json.loads(cli("mediation", "show", "1", "--json").stdout)
    assert data["state"] == "settled" and data["closed_on"] == "2026-03-09"
    assert json.loads(cli("mediation", "list", "--json", "--from", "2026-03-02").stdout) == []
    by_ref = json.loads(cli("mediation", "show", data["reference"], "--json").stdout)
    assert by_ref["id"] == 1
    summary = json.loads(cli("stats", "summary", "--json", "--from", "2026-01-01",
                             "--to", "2026-12-31").stdout)  # fmt: skip
    m = summary["mediation"]
    assert m["cases"] == 1 and m["by_type"]["land"] == 1 and m["settled"] == 1
    assert m["by_committee"] == {"town": 1, "village": 0} and m["median_days_to_close"] == 8


def test_no_mediation_key_before_the_first_case(cli):
    summary = json.loads(cli("stats", "summary", "--json").stdout)
    assert "mediation" not in summary


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--date", "2026-03-01", "--type", "fight", "--committee", "town"], 2, "纠纷类型"),
        (["--date", "1.3.2026", "--type", "land", "--committee", "town"], 2, "--date"),
        (["--date", "2026-03-01", "--type", "land", "--committee", "city"], 2, "调委会"),
        (
            ["--date", "2026-03-01", "--type", "land", "--committee", "town", "--source", "tv"],
            2,
            "来源",
        ),  # fmt: skip
        (
            ["--date", "2026-03-01", "--type", "land", "--committee", "town", "--state", "won"],
            2,
            "状态",
        ),  # fmt: skip
    ],
)
def test_bad_input_is_one_line(cli, args, code, says):
    result = cli("mediation", "add", *args)
    assert result.exit_code == code
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mediation: ") and says in lines[0]


def test_closing_what_is_not_there_or_with_a_wrong_outcome(cli):
    missing = cli("mediation", "close", "7", "--outcome", "settled")
    assert missing.exit_code == 1 and missing.stderr.strip() == "mediation: 没有编号为 7 的调解案件"
    cli("mediation", "add", "--date", "2026-03-01", "--type", "land", "--committee", "town")
    wrong = cli("mediation", "close", "1", "--outcome", "accepted")
    assert wrong.exit_code == 2 and len(wrong.stderr.strip().splitlines()) == 1
    early = cli("mediation", "close", "1", "--outcome", "settled", "--date", "2026-02-01")
    assert early.exit_code == 2 and "结案日期不能早于受理日期" in early.stderr
    assert cli("mediation", "show", "9").exit_code == 1


@pytest.mark.parametrize("command", [["add"], ["list"], ["show"], ["close"], []])
def test_every_mediation_command_has_help(cli, command):
    result = cli("mediation", *command, "--help")
    assert result.exit_code == 0 and "Usage:" in result.stdout


def test_add_help_lists_the_type_slugs(tmp_path):
    result = run(["mediation", "add", "--help"], f"sqlite:///{tmp_path}/x.db")
    assert result.returncode == 0
    for slug in ("damages", "traffic", "neighbor", "marriage_family", "contract", "land",
                 "consumer", "labor", "other", "police-room", "not-settled"):  # fmt: skip
        assert slug in result.stdout


def test_the_nightly_rollup_forgets_personal_fields_of_old_closed_cases(cli, tmp_path):
    from datetime import date

    from bot import mediation, records

    engine = records.make_engine(f"sqlite:///{tmp_path}/m.db")
    sealer = mediation.Sealer("cli-key")
    old = mediation.add_case(
        engine, sealer, accepted_on=date(2020, 1, 2), kind="labor", source="walk-in",
        actor="t", state="settled", closed_on=date(2020, 2, 1), phone="13800000000",
    )  # fmt: skip
    done = json.loads(cli("stats", "rollup", "--json").stdout)
    assert done["mediation_personal_deleted"] == 1
    kept = mediation.find(engine, old["id"], sealer)
    assert kept["phone"] is None and kept["personal_deleted"] and kept["state"] == "settled"
    engine.dispose()
