"""The mediation register on SQLite and PostgreSQL: the seed's 85 cases, the figures, the
report's paragraph, the 人民调解 sheet, sealed personal fields and their retention."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import select, text

from bot import figures, mediation, records
from bot.figures import exports, report
from bot.mediation import privacy

TZ = ZoneInfo("Asia/Shanghai")
YEAR = (date(2024, 1, 1), date(2024, 12, 31))
SEALER = mediation.Sealer("register-test-key")
PHONE = "13700001111"
WHAT = "王家和李家为宅基地边界吵了三年"
COMMITTEES = mediation.Committees("甘河滩镇人民调解委员会", ("上庄村", "下庄村"))
# The seed report's year: 85 disputes by kind; 75 by the town committee, 10 by villages.
SEED_KINDS = {
    "damages": 27,
    "traffic": 27,
    "neighbor": 13,
    "marriage_family": 10,
    "contract": 3,
    "land": 2,
    "consumer": 2,
    "labor": 1,
}
SEED_PARAGRAPH = (
    "全年受理调解矛盾纠纷85起，其中损害赔偿纠纷27起，道路交通事故纠纷27起，邻里纠纷13起，"
    "婚姻家庭纠纷10起，合同纠纷3起，山林土地纠纷2起，消费纠纷2起，劳动争议纠纷1起。"
    "镇调委会调解75起，村调委会调解10起，调解成功85起。"
)


def _add(engine, **kw):
    values = {
        "accepted_on": date(2024, 5, 6),
        "kind": "neighbor",
        "source": "walk-in",
        "actor": records.COMMAND_LINE,
        "committee": COMMITTEES.parse("town"),
    }
    return mediation.add_case(engine, SEALER, **(values | kw))


def _enter_the_seed_year(engine) -> None:
    n = 0
    for kind, count in SEED_KINDS.items():
        for _ in range(count):
            day = date(2024, 1, 1) + timedelta(days=n * 4)
            committee = COMMITTEES.parse("village:上庄村" if n % 17 in (3, 11) else "town")
            _add(
                engine,
                accepted_on=day,
                kind=kind,
                committee=committee,
                state="settled",
                closed_on=day + timedelta(days=n % 7),
            )
            n += 1


def _figures(engine, start=YEAR[0], end=YEAR[1]) -> exports.Figures:
    found = figures.summary(engine, TZ, start, end)
    return exports.Figures(found, {}, figures.Names({}, {}))


def test_the_seed_years_cases_reproduce_its_paragraph(engine):
    _enter_the_seed_year(engine)
    m = figures.summary(engine, TZ, *YEAR).to_json()["mediation"]
    assert m["cases"] == 85 and m["settled"] == 85 and m["success_rate"] == 1.0
    assert m["by_type"] == SEED_KINDS | {"other": 0}
    assert m["by_committee"] == {"town": 75, "village": 10}
    assert m["by_source"] == {"wechat": 0, "walk-in": 85, "police-room": 0, "referral": 0}
    assert m["median_days_to_close"] == 3
    assert report.mediation_paragraph(_figures(engine)) == SEED_PARAGRAPH


def test_a_year_without_cases_is_said_plainly(engine):
    assert "mediation" not in figures.summary(engine, TZ, *YEAR).to_json()  # no register yet
    assert report.mediation_paragraph(_figures(engine)) == "全年未在系统中登记人民调解矛盾纠纷。"
    _add(engine, accepted_on=date(2023, 6, 1))
    m = figures.summary(engine, TZ, *YEAR).to_json()["mediation"]
    assert m["cases"] == 0 and m["success_rate"] is None and m["median_days_to_close"] is None
    assert report.mediation_paragraph(_figures(engine)) == "全年未在系统中登记人民调解矛盾纠纷。"


def test_open_unassigned_and_other_outcomes_are_counted_apart(engine):
    _add(engine, kind="labor", state="not-settled", closed_on=date(2024, 6, 1))
    _add(engine, kind="other", committee=None, source="police-room")
    _add(engine, kind="land", committee=COMMITTEES.parse("village"), state="settled")
    _add(engine, kind="land", state="withdrawn")
    m = figures.summary(engine, TZ, *YEAR).to_json()["mediation"]
    assert (m["cases"], m["settled"], m["open"]) == (4, 1, 1)
    assert m["success_rate"] == 0.5  # settled of those mediated to an end (withdrawn are not)
    assert m["by_committee"] == {"town": 2, "village": 1}
    paragraph = report.mediation_paragraph(_figures(engine))
    assert paragraph == (
        "全年受理调解矛盾纠纷4起，其中山林土地纠纷2起，劳动争议纠纷1起，其他纠纷1起。"
        "镇调委会调解2起，村调委会调解1起，1起尚未分配调委会，调解成功1起，1起正在调解中。"
    )


def test_personal_fields_are_sealed_at_rest(engine):
    case = _add(engine, phone=PHONE, description=WHAT)
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT phone_sealed, description_sealed FROM mediation_cases WHERE id = :id"),
            {"id": case["id"]},
        ).one()
    assert PHONE not in row[0] and WHAT not in row[1]
    assert SEALER.open(row[0]) == PHONE and SEALER.open(row[1]) == WHAT
    assert mediation.Sealer("another-key").open(row[0]) == privacy.UNREADABLE
    assert "phone" not in case and "description" not in case
    opened = mediation.find(engine, case["reference"], SEALER)
    assert (opened["phone"], opened["description"]) == (PHONE, WHAT)


def test_retention_deletes_personal_fields_and_keeps_every_count(engine):
    today = date(2024, 12, 1)
    old = _add(engine, phone=PHONE, description=WHAT, state="settled", closed_on=date(2024, 8, 1))
    recent = _add(
        engine, phone=PHONE, description=WHAT, state="settled", closed_on=date(2024, 11, 20)
    )
    still_open = _add(engine, phone=PHONE, description=WHAT)
    before = figures.summary(engine, TZ, *YEAR).to_json()["mediation"]
    assert mediation.forget(engine, 90, today) == 1
    assert mediation.forget(engine, 90, today) == 0  # once
    assert figures.summary(engine, TZ, *YEAR).to_json()["mediation"] == before
    gone = mediation.find(engine, old["id"], SEALER)
    assert gone["phone"] is None and gone["description"] is None and gone["personal_deleted"]
    for kept in (recent, still_open):
        assert mediation.find(engine, kept["id"], SEALER)["phone"] == PHONE


def test_the_register_lists_and_changes_cases(engine):
    first = _add(engine, accepted_on=date(2024, 3, 1))
    second = _add(engine, accepted_on=date(2024, 4, 1), kind="traffic", source="police-room")
    assert [c["id"] for c in mediation.cases(engine)] == [second["id"], first["id"]]
    assert [c["id"] for c in mediation.cases(engine, date(2024, 3, 15))] == [second["id"]]
    moved = mediation.change(
        engine,
        second["id"],
        "mediator1",
        committee=COMMITTEES.parse("village:下庄村"),
        mediator="马调解员",
        state="mediating",
    )
    assert (moved["committee"], moved["committee_name"], moved["mediator"]) == (
        "village",
        "下庄村",
        "马调解员",
    )
    closed = mediation.close(engine, second["id"], "mediator1", "referred", date(2024, 4, 20))
    assert (closed["state"], closed["closed_on"]) == ("referred", "2024-04-20")
    assert [c["id"] for c in mediation.cases(engine, state="open")] == [first["id"]]
    with engine.connect() as conn:
        actions = list(conn.scalars(select(records.AuditEntry.action)))
    assert actions.count("mediation.create") == 2
    assert "mediation.update" in actions and "mediation.close" in actions


def test_a_case_cannot_close_before_it_was_accepted(engine):
    case = _add(engine)
    with pytest.raises(mediation.register.MediationError):
        mediation.close(engine, case["id"], "x", "settled", date(2024, 1, 1))


def test_the_workbook_has_the_mediation_sheet_without_personal_fields(engine, tmp_path):
    _enter_the_seed_year(engine)
    _add(engine, phone=PHONE, description=WHAT, source="referral")
    f = _figures(engine)
    exports.write_xlsx(f, tmp_path / "stats.xlsx")
    exports.write_csv(f, tmp_path / "stats.csv")
    book = openpyxl.load_workbook(tmp_path / "stats.xlsx")
    sheet = book["人民调解"]
    rows = {row[0]: row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["受理调解矛盾纠纷"] == 86 and rows["损害赔偿纠纷"] == 27
    assert rows["镇调委会调解"] == 76 and rows["来源：法院、派出所等转来"] == 1
    everything = [
        str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row
    ]
    assert not [v for v in everything if PHONE in v or WHAT in v]
    csv_text = (tmp_path / "stats.csv").read_text(encoding="utf-8-sig")
    assert "人民调解" in csv_text and PHONE not in csv_text and WHAT not in csv_text
    written = report.markdown(f, 2024, "甘河滩镇") + report.plain_text(f, 2024, "甘河滩镇")
    assert "全年受理调解矛盾纠纷86起" in written and PHONE not in written and WHAT not in written
