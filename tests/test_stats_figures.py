"""Staff read the figures of any period: hand-counted fixtures, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from bot import figures
from scheduler import models
from tests import statsdata
from tests.conftest import TOKEN, summary
from tests.statsdata import SHANGHAI
from tests.wxdriver import Driver


@pytest.fixture
def month(engine):
    return statsdata.load_month(engine)


def test_march_figures_match_the_hand_count(engine, month):
    march = figures.summary(engine, SHANGHAI, date(2025, 3, 1), date(2025, 3, 31)).to_json()
    assert march["from"] == "2025-03-01" and march["to"] == "2025-03-31"
    assert march["messages_received"] == 6
    assert march["unique_users"] == 4
    assert (march["answered"], march["unanswered"]) == (3, 2)
    assert march["answer_rate"] == 0.6
    assert (march["subscribes"], march["unsubscribes"], march["net_followers"]) == (3, 1, 2)
    assert march["menu_clicks"] == 3
    assert march["menu_clicks_by_key"] == {"THEME_fraud": 2, "THEME_labor": 1}
    assert march["by_theme"] == {"labor": 2, "fraud": 1}
    assert march["by_entry"] == {"labor-wage-arrears": 2, "fraud-safe-account": 1}
    assert march["by_kind"] == {"text": 4, "image": 1, "voice": 1}
    assert march["followers_by_scene"] == {"market-2025-03": 2}
    assert march["scans_by_scene"] == {}


def test_to_is_inclusive_and_days_are_local(engine, month):
    first = figures.summary(engine, SHANGHAI, date(2025, 3, 1), date(2025, 3, 1)).to_json()
    assert first["messages_received"] == 2  # 23:30 in Shanghai is still 1 March
    assert first["unique_users"] == 1
    in_utc = figures.summary(engine, ZoneInfo("UTC"), date(2025, 3, 1), date(2025, 3, 1)).to_json()
    assert in_utc["messages_received"] == 3  # B's 00:10 voice is 16:10 UTC on 1 March
    april = figures.summary(engine, SHANGHAI, date(2025, 4, 1), date(2025, 4, 30)).to_json()
    assert (april["messages_received"], april["answered"], april["subscribes"]) == (1, 1, 1)
    assert april["scans_by_scene"] == {"lecture-2025-04": 1}
    assert april["followers_by_scene"] == {"lecture-2025-04": 1}
    empty = figures.summary(engine, SHANGHAI, date(2024, 1, 1), date(2024, 12, 31)).to_json()
    assert empty["messages_received"] == 0 and empty["answer_rate"] is None
    assert empty["campaigns"] == [] and empty["by_theme"] == {}


def test_series_by_day_week_month_and_year(engine, month):
    days = figures.series(engine, SHANGHAI, date(2025, 3, 1), date(2025, 3, 3), "day")
    assert [d["start"] for d in days] == ["2025-03-01", "2025-03-02", "2025-03-03"]
    assert [d["messages_received"] for d in days] == [2, 1, 1]
    assert [d["subscribes"] for d in days] == [0, 2, 1]
    assert [d["unique_users"] for d in days] == [1, 1, 1]
    weeks = figures.series(engine, SHANGHAI, date(2025, 3, 1), date(2025, 3, 16), "week")
    # 1-2 March is the end of ISO week 9; 3-9 March week 10; 10-16 March week 11.
    assert [w["label"] for w in weeks] == ["2025-W09", "2025-W10", "2025-W11"]
    assert [w["start"] for w in weeks] == ["2025-03-01", "2025-03-03", "2025-03-10"]
    assert [w["messages_received"] for w in weeks] == [3, 1, 2]
    assert [w["unique_users"] for w in weeks] == [2, 1, 1]
    assert [w["menu_clicks"] for w in weeks] == [1, 0, 2]
    months = figures.series(engine, SHANGHAI, date(2025, 1, 1), date(2025, 12, 31), "month")
    assert len(months) == 12
    assert [m["messages_received"] for m in months[2:4]] == [6, 1]
    assert [m["net_followers"] for m in months[2:4]] == [2, 1]
    years = figures.series(engine, SHANGHAI, date(2025, 1, 1), date(2025, 12, 31), "year")
    assert years == [
        {
            "start": "2025-01-01",
            "label": "2025",
            "messages_received": 7,
            "unique_users": 4,  # distinct over the year, not the sum of months (4 + 1)
            "answered": 4,
            "unanswered": 2,
            "subscribes": 4,
            "unsubscribes": 1,
            "net_followers": 3,
            "menu_clicks": 3,
        }
    ]


def test_days_follow_daylight_saving_time_in_the_configured_zone(engine):
    berlin = ZoneInfo("Europe/Berlin")  # clocks go forward at 02:00 on 30 March 2025
    for when in ("2025-03-30 00:30", "2025-03-30 23:30", "2025-03-31 00:30"):
        statsdata.add_event(engine, when, "A", statsdata.MISS, tz=berlin)
    days = figures.series(engine, berlin, date(2025, 3, 29), date(2025, 3, 31), "day")
    assert [d["messages_received"] for d in days] == [0, 2, 1]


def test_each_campaign_has_its_counts_and_72_hour_engagement(engine, month):
    year = figures.summary(engine, SHANGHAI, date(2025, 1, 1), date(2025, 12, 31)).to_json()
    by_name = {c["name"]: c for c in year["campaigns"]}
    assert list(by_name) == ["宪法日群发", "欠薪提醒", "婚姻法宣传（标签）"]
    mass = by_name["宪法日群发"]
    assert mass["audience"] == "all" and mass["audience_kind"] == "mass"
    assert mass["audience_name"] == "全部关注者（群发）"
    assert (mass["sent"], mass["filtered"], mass["errors"]) == (500, 20, 3)
    assert mass["engaged"] == 3
    assert mass["started_at"] == "2025-03-02T09:00:00+08:00"
    assert mass["window_closed"] is True
    service = by_name["欠薪提醒"]
    assert service["audience"] == "openids"  # the file's path is not reported
    assert service["audience_kind"] == "customer_service"
    assert (service["sent"], service["skipped"], service["filtered"]) == (2, 1, None)
    assert service["engaged"] == 1
    assert by_name["婚姻法宣传（标签）"]["engaged"] == 2
    assert year["campaign_totals"] == {
        "count": 3,
        "sent": 602,
        "filtered": 20,
        "errors": 3,
        "engaged": 6,
    }
    april = figures.summary(engine, SHANGHAI, date(2025, 4, 1), date(2025, 4, 30)).to_json()
    assert [c["name"] for c in april["campaigns"]] == ["婚姻法宣传（标签）"]


def test_top_unanswered_questions_are_those_of_the_period(engine, month):
    march = figures.summary(engine, SHANGHAI, date(2025, 3, 1), date(2025, 3, 31)).to_json()
    assert march["top_unanswered"] == [
        {"text": "村里的路灯坏了找谁修", "count": 3},
        {"text": "明天集市几点开始", "count": 1},
    ]
    april = figures.summary(engine, SHANGHAI, date(2025, 4, 1), date(2025, 4, 30)).to_json()
    assert april["top_unanswered"] == [{"text": "明天集市几点开始", "count": 5}]


def test_an_activity_is_credited_with_the_followers_its_qr_code_brought(engine, month):
    from bot.figures import activities

    themes = {"fraud": "防范电信网络诈骗与养老诈骗"}
    activities.add(
        engine,
        held_on=date(2025, 3, 2),
        kind="集市宣传",
        place="甘河滩村集市",
        themes=themes,
        theme="fraud",
        attendance=150,
        scene="market-2025-03",
    )
    activities.add(engine, held_on=date(2025, 3, 20), kind="lecture", place="镇中学", themes=themes)
    march = figures.summary(engine, SHANGHAI, date(2025, 3, 1), date(2025, 3, 31)).to_json()
    market, lecture = march["activities"]
    assert (market["kind_name"], market["followers_gained"], market["attendance"]) == (
        "集市宣传",
        2,
        150,
    )
    assert lecture["followers_gained"] is None and lecture["attendance"] is None
    totals = march["activity_totals"]
    assert totals["count"] == 2 and totals["attendance"] == 150
    assert totals["attendance_unknown"] == 1
    assert totals["by_kind"] == {
        "market": {"count": 1, "attendance": 150},
        "lecture": {"count": 1, "attendance": 0},
    }
    assert totals["followers_via_activities"] == 2


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_webhook_retries_are_counted_once(database, build_app, request):
    sections = {}
    if database == "postgresql":
        sections["database"] = {"url": request.getfixturevalue("pg_url")}
    app = build_app(**sections)
    driver = Driver(app.test_client(), TOKEN)
    for _ in range(3):  # WeChat retries a message it got no reply to, up to three times
        driver.text("o-retry-1", "老板拖了三个月工资不给", msg_id=880001)
    driver.voice("o-retry-2", "有人冒充公安让我转账到安全账户", msg_id=880002)
    driver.text("o-retry-2", "明天集市几点开始呀", msg_id=880003)
    for _ in range(2):
        driver.event("o-retry-3", "subscribe", key="qrscene_market-2026-05", create_time=1764000000)
    driver.event("o-retry-3", "CLICK", key="THEME_fraud")
    driver.event("o-retry-1", "unsubscribe")
    figures = summary(app)
    assert figures["messages_received"] == 3
    assert figures["unique_users"] == 2
    assert (figures["answered"], figures["unanswered"]) == (2, 1)
    assert figures["by_theme"] == {"labor": 1, "fraud": 1}
    assert (figures["subscribes"], figures["unsubscribes"], figures["menu_clicks"]) == (1, 1, 1)
    assert figures["followers_by_scene"] == {"market-2026-05": 1}
    assert figures["top_unanswered"] == [{"text": "明天集市几点开始呀", "count": 1}]


def test_a_presumed_delivery_counts_towards_engagement(engine, month):
    """A send interrupted after WeChat may have taken it is counted in `sent` as presumed;
    if that resident then writes, the campaign reached them."""
    from sqlalchemy import select, update

    with engine.begin() as conn:
        campaign = conn.execute(
            select(models.Campaign.id).where(models.Campaign.name == "欠薪提醒")
        ).scalar_one()
        conn.execute(
            update(models.CampaignRecipient)
            .where(models.CampaignRecipient.campaign_id == campaign)
            .where(models.CampaignRecipient.status == "skipped")
            .values(status="presumed", sent_at=statsdata.at("2025-03-10 11:40"))
        )
    statsdata.add_event(engine, "2025-03-11 09:00", "D", statsdata.MISS)  # D writes back
    march = figures.summary(engine, SHANGHAI, date(2025, 3, 1), date(2025, 3, 31)).to_json()
    engaged = {c["name"]: c["engaged"] for c in march["campaigns"]}
    assert engaged["欠薪提醒"] == 2  # C, and D whose copy was presumed delivered
